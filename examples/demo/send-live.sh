#!/usr/bin/env bash
# Sends live data to the collector of `make run`: six failed Entra ID sign-ins from one address over
# OTLP/HTTP (127.0.0.1:4318), then an accepted SSH logon from that address as RFC 5424 syslog over TCP
# (127.0.0.1:5514). The collector prints an alert for it and appends it to out/alerts.json.
#
#   examples/demo/send-live.sh [ADDRESS] [USER]
set -euo pipefail
addr=${1:-198.51.100.23}
user=${2:-alice}

for i in 1 2 3 4 5 6; do
	now=$(date +%s%N)
	curl -sS -o /dev/null --fail http://127.0.0.1:4318/v1/logs -H 'Content-Type: application/json' -d '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"'"$now"'","attributes":[
		{"key":"Type","value":{"stringValue":"SigninLogs"}},
		{"key":"IPAddress","value":{"stringValue":"'"$addr"'"}},
		{"key":"ResultType","value":{"stringValue":"50126"}},
		{"key":"UserPrincipalName","value":{"stringValue":"'"$user"'@contoso.com"}}]}]}]}]}'
done
echo "sent 6 failed sign-ins from $addr (OTLP/HTTP)"

message="Accepted password for $user from $addr port $((40000 + RANDOM % 20000)) ssh2"
if command -v logger >/dev/null; then
	logger --server 127.0.0.1 --port 5514 --tcp --rfc5424 -p authpriv.info -t sshd --id=$$ "$message"
else
	printf '<86>1 %s %s sshd %d - - %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)" "$(hostname)" $$ "$message" >/dev/tcp/127.0.0.1/5514
fi
echo "sent: sshd: $message (syslog RFC 5424 over TCP)"
echo "the collector should now print an alert with IpAddress $addr"
