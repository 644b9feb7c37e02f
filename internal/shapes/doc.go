// Package shapes builds the input shapes the processor recognises, once, for every test, the load
// generator and the demo generator: the records a receiver or an export produces for an Entra ID
// sign-in, a Linux auth line and a Windows logon event, the raw lines behind them, and the hostile
// variants the robustness tests feed.
//
// Each family is a spec struct whose zero value is a complete, realistic record (alice signing in
// from 203.0.113.7 and failing with 50126; alice's sshd password logon on web01; alice's network
// 4624 on WS01.contoso.com); set the fields a test varies. Every spec has the same small API:
//
//	Map() map[string]any    the record's fields as raw Go values, fresh on every call (for
//	                        pcommon.Map.FromRaw, or for a test to change one value)
//	Fill(plog.LogRecord)    writes them where the shape's receiver puts them: attributes, a map
//	                        body, or a string body (a raw line, a JSON text)
//	Line() string           the text a file or a socket carries: a syslog line, a JSON line
//
// The families and their shapes (the README's input table):
//
//	SignIn   SentinelSignIn         SigninLogs / AADNonInteractiveUserSignInLogs row (attributes)
//	         DiagnosticSignIn       Azure diagnostic-settings record (map body; JSON as Line)
//	         EventHubAzureSignIn    azure_event_hub receiver, format azure (attributes)
//	         EventHubSemconvSignIn  azure_event_hub receiver, apply_semantic_conventions (map body)
//	         AzureEncodingSignIn    azure_encoding extension (attributes)
//	EventHubsMessage                diagnostic settings' {"records": [ … ]} wrapper of sign-ins, as
//	                                bytes (Kafka raw), a JSON string (Kafka text) or a map body
//	Syslog   SentinelSyslog         Sentinel Syslog row (attributes)
//	         SyslogReceiver         syslog receiver, RFC 3164 (attributes, the line as body)
//	         SyslogReceiver5424     syslog receiver, RFC 5424 (attributes, the line as body)
//	         Journald               journald receiver (map body)
//	         RFC3164, RFC5424       a raw syslog line with PRI (string body)
//	         AuthLogFile            a line of auth.log as rsyslog writes it (no PRI, RFC 3339 time)
//	         SecureFile             a line of secure / auth.log in the traditional format (no PRI)
//	Windows  SecurityEventRow       Sentinel SecurityEvent row (attributes)
//	         WindowsEventRow        Sentinel WindowsEvent row, EventData dynamic (attributes)
//	         EventLog               windowseventlog receiver, event_data as a map (map body)
//	         EventLogArray          windowseventlog receiver, event_data_format: array (map body)
//	ConsoleLogin SentinelCloudTrail AWSCloudTrail row (attributes; JSON text columns)
//	         CloudTrailEvent        a CloudTrail event as AWS writes it (map body; JSON as Line), a
//	                                console login or (EventName, EventSource) any other event
//	CloudTrailFile                  a CloudTrail log file, {"Records": [ … ]} on one line
//	App                             an ordinary application log: what most records are
//
// The two shapes that are files of an export have a typed record besides, whose JSON keeps the
// export's column order (the demo data is written from them): SignIn.DiagnosticRecord and
// Windows.SecurityEventRecord (4624, 4625, 4634 and 4672); the map of those shapes is that record's
// JSON as a parser hands it on. A spec's Detail sets what a full export carries beyond what the
// rules read (ids, client, place).
//
// Messages of the sshd grammars (accepted and failed logons of every method, invalid users,
// connections, rsyslog's repeated messages, PAM and session lines) come from SSHD and the
// functions beside it; Hostile lists malformed records with the rejection each must be counted
// under.
//
// The package builds records only; a test in it classifies every shape it builds, so a builder that
// drifts from the classifier fails there.
package shapes
