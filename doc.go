// Package aadhostlogincorrelation is an OpenTelemetry Collector logs processor that runs Microsoft
// Sentinel's rule "Failed AzureAD logons but success logon to host" as a streaming correlation.
//
//go:generate mdatagen metadata.yaml
package aadhostlogincorrelation
