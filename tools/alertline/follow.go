package alertline

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

// Copy reads a file exporter's OTLP JSON (one export request a line) from r and writes the line of
// each alert to w. A line that is not an export request is reported to errs and skipped.
func Copy(r io.Reader, w, errs io.Writer) error {
	br := bufio.NewReader(r)
	n := 0
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			n++
			writeAlerts(line, n, w, errs)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Follow is Copy on a file that a collector is writing: it waits for the file to appear, prints
// the alerts of each complete line as it is written, starts again from the top when the file is
// truncated or replaced, and returns when ctx is done. poll is how often it looks for more.
func Follow(ctx context.Context, path string, poll time.Duration, w, errs io.Writer) error {
	var (
		f       *os.File
		info    fs.FileInfo
		offset  int64
		pending []byte // the start of a line not written whole yet
		n       int
	)
	defer func() {
		if f != nil {
			_ = f.Close()
		}
	}()
	buf := make([]byte, 64<<10)
	for {
		if f == nil {
			var err error
			if f, err = os.Open(path); err != nil {
				if !errors.Is(err, fs.ErrNotExist) {
					return err
				}
				f = nil
			} else if info, err = f.Stat(); err != nil {
				return err
			}
			offset, pending, n = 0, nil, 0
		}
		if f != nil {
			if now, err := os.Stat(path); err != nil || !os.SameFile(info, now) || now.Size() < offset {
				// Replaced, removed or truncated: start again from the file now at path.
				_ = f.Close()
				f = nil
				continue
			}
			for {
				k, err := f.Read(buf)
				offset += int64(k)
				pending = append(pending, buf[:k]...)
				for {
					i := bytes.IndexByte(pending, '\n')
					if i < 0 {
						break
					}
					n++
					writeAlerts(pending[:i+1], n, w, errs)
					pending = pending[i+1:]
				}
				if err == io.EOF || k == 0 {
					break
				}
				if err != nil {
					return err
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(poll):
		}
	}
}

var unmarshaler plog.JSONUnmarshaler

func writeAlerts(line []byte, n int, w, errs io.Writer) {
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	ld, err := unmarshaler.UnmarshalLogs(line)
	if err != nil {
		_, _ = fmt.Fprintf(errs, "alert file line %d is not OTLP JSON: %v\n", n, err)
		return
	}
	for _, l := range Lines(ld) {
		_, _ = fmt.Fprintln(w, l) // a terminal or a pipe; nothing to do if it is gone
	}
}
