package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/template"
	"time"
)

// configTemplate is the collector configuration of every run: otlp receiver → processors → otlp
// exporter to the sink. The runs differ only in .Processors. The exporter blocks when its queue is
// full instead of dropping, so an overloaded collector pushes back on the load generator and every
// record it accepts reaches the sink. Internal metrics are on, as in production, on a free port.
const configTemplate = `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{{ .Receiver }}

processors:
  aadhostlogincorrelation: {}
  batch: {}

exporters:
  otlp_grpc:
    endpoint: {{ .Sink }}
    tls:
      insecure: true
    sending_queue:
      block_on_overflow: true

extensions:
  health_check:
    endpoint: 127.0.0.1:{{ .Health }}

service:
  extensions: [health_check]
  telemetry:
    logs:
      level: warn
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: {{ .Metrics }}
  pipelines:
    logs:
      receivers: [otlp]
      processors: [{{ .Processors }}]
      exporters: [otlp_grpc]
`

// pipelines of the runs
const (
	pipelinePlain     = "batch"
	pipelineProcessor = "aadhostlogincorrelation, batch"
	pipelineLatency   = "aadhostlogincorrelation" // no batch processor: no batching timeout in the latency
)

// collector is one running collector process.
type collector struct {
	name     string
	cmd      *exec.Cmd
	pid      int
	receiver string // OTLP/gRPC endpoint
	exited   chan error
	logPath  string
}

// startCollector writes the configuration into dir and starts bin with it, on cpus when that is
// not empty (taskset -c), and waits until its health check answers.
func startCollector(bin, dir, name, processors, sinkEndpoint, cpus string) (*collector, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	var cfg bytes.Buffer
	err = template.Must(template.New("config").Option("missingkey=error").Parse(configTemplate)).Execute(&cfg, map[string]any{
		"Receiver": ports[0], "Health": ports[1], "Metrics": ports[2], "Sink": sinkEndpoint, "Processors": processors,
	})
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(cfgPath, cfg.Bytes(), 0o600); err != nil {
		return nil, err
	}
	c := &collector{name: name, receiver: "127.0.0.1:" + strconv.Itoa(ports[0]), exited: make(chan error, 1),
		logPath: filepath.Join(dir, name+".log")}
	logFile, err := os.Create(c.logPath)
	if err != nil {
		return nil, err
	}
	c.cmd = pinned(cpus, bin, "--config", cfgPath)
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	if err := c.cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	c.pid = c.cmd.Process.Pid // taskset execs the collector in place: same pid
	go func() { c.exited <- c.cmd.Wait(); _ = logFile.Close() }()

	health := fmt.Sprintf("http://127.0.0.1:%d/", ports[1])
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-c.exited:
			return nil, fmt.Errorf("collector %s exited during start (%v); log: %s", name, err, c.logPath)
		default:
		}
		if resp, err := http.Get(health); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, nil
			}
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, fmt.Errorf("collector %s not healthy after 60s; log: %s", name, c.logPath)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop ends the collector with SIGTERM (SIGKILL after 20 s). How it exited does not change what
// was measured; its log has the details.
func (c *collector) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-c.exited:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		err = <-c.exited
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "collector %s exited with %v; log: %s\n", c.name, err, c.logPath)
	}
}

// pinned returns a command running name on cpus with taskset, or as it is when cpus is empty.
func pinned(cpus, name string, args ...string) *exec.Cmd {
	if cpus == "" {
		return exec.Command(name, args...)
	}
	return exec.Command("taskset", append([]string{"-c", cpus, name}, args...)...)
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat (100 on every Linux
// architecture Go supports).
const clockTicks = 100

// cpuSeconds returns the user+system CPU time of process pid so far.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces: fields count from after it.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return float64(utime+stime) / clockTicks, nil
}

// loadAverage returns the 1-minute load average.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
