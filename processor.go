package aadhostlogincorrelation

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
)

type correlationProcessor struct{}

func newCorrelationProcessor(_ processor.Settings, _ *Config) (*correlationProcessor, error) {
	return &correlationProcessor{}, nil
}

func (p *correlationProcessor) start(context.Context, component.Host) error { return nil }
func (p *correlationProcessor) shutdown(context.Context) error             { return nil }

func (p *correlationProcessor) processLogs(_ context.Context, ld plog.Logs) (plog.Logs, error) {
	return ld, nil
}
