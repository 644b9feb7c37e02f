// Package checkpointtest holds what tests of checkpoints share: a storage client that behaves as
// file_storage's do where it matters to a checkpoint's timing.
package checkpointtest

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// SerialClient is a storage client that takes one operation at a time, as file_storage's do (a
// bbolt file per client, one writer at a time; its reads are transactions that write too). Before
// a Set goes through, Stall (when not nil) is called with its key while the client is held: a
// write that holds the storage for as long as Stall takes.
type SerialClient struct {
	storage.Client
	Stall func(key string)
	mu    sync.Mutex
}

// Get reads key, alone.
func (c *SerialClient) Get(ctx context.Context, key string) ([]byte, error) {
	op := storage.GetOperation(key)
	err := c.Batch(ctx, op)
	return op.Value, err
}

// Set writes key, alone.
func (c *SerialClient) Set(ctx context.Context, key string, value []byte) error {
	return c.Batch(ctx, storage.SetOperation(key, value))
}

// Delete deletes key, alone.
func (c *SerialClient) Delete(ctx context.Context, key string) error {
	return c.Batch(ctx, storage.DeleteOperation(key))
}

// Batch runs ops, alone.
func (c *SerialClient) Batch(ctx context.Context, ops ...*storage.Operation) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, op := range ops {
		if op.Type == storage.Set && c.Stall != nil {
			c.Stall(op.Key)
		}
	}
	return c.Client.Batch(ctx, ops...)
}

// Walk walks the keys, alone; the client it wraps must be a storage.Walker.
func (c *SerialClient) Walk(ctx context.Context, fn storage.WalkFunc) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Client.(storage.Walker).Walk(ctx, fn)
}
