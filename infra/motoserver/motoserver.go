package motoserver

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const (
	// readyPrefix starts the line serve.py prints once its socket is bound.
	readyPrefix = "moto ready "

	defaultRegion       = "us-east-1"
	defaultStartTimeout = 30 * time.Second
	// stopGrace is how long Stop waits after SIGTERM before it kills the process group.
	stopGrace = 5 * time.Second
)

// Options configure Start. The zero value starts moto on a free loopback port with the module's virtualenv.
type Options struct {
	// Port to listen on; 0 picks a free one. serve.py binds it and reports the port it got, so there is no
	// window in which another process can take it.
	Port int
	// Python is the interpreter with moto installed; default <Root>/.venv/bin/python (`make venv`).
	Python string
	// Script is the server script; default <Root>/infra/moto/serve.py.
	Script string
	// Root is the module root; default the nearest go.mod at or above the working directory (ModuleRoot).
	Root string
	// Region of the aws.Config that AWSConfig returns; default us-east-1.
	Region string
	// Stdout receives moto's stdout (the ready line); nil discards it. Stderr receives moto's stderr — its
	// errors, such as the traceback of a request moto failed (serve.py logs nothing else unless
	// MOTO_SERVE_LOG_REQUESTS=1); nil sends it to this process's stderr, so that a failing test's output
	// shows what moto said (io.Discard drops it). The tail of stderr is quoted in the error when moto
	// fails to start either way.
	Stdout, Stderr io.Writer
	// StartTimeout bounds how long Start waits for moto to answer; default 30 s.
	StartTimeout time.Duration
	// StateDir enables SaveState and LoadState on this directory (serve.py --state-dir, infra/moto/state.py).
	StateDir string
	// Args are more serve.py arguments, e.g. "--without-patch", "query_indexes" to show what a moto patch
	// (infra/moto/patches.py) fixes, or "--stream-retention", "2" to age stream records in a test.
	Args []string
}

// Server is a running moto process. Stop it when done; ForTest does that for tests.
type Server struct {
	endpoint string
	region   string
	cmd      *exec.Cmd
	stdin    io.Closer
	stderr   *tailWriter

	exited   chan struct{} // closed when cmd.Wait returned
	waitErr  error         // cmd.Wait's result; read only after exited is closed
	stopping atomic.Bool   // Stop was called: from then on an exit is the one asked for (see Err)

	stopOnce sync.Once
	stopErr  error
}

// Start runs serve.py as a child process in its own process group and waits until moto answers HTTP.
// ctx bounds only the start: the server runs until Stop. The child also exits when this process dies,
// because it watches its stdin, which only this process holds open.
func Start(ctx context.Context, opts Options) (*Server, error) {
	python, script, dir, err := paths(opts)
	if err != nil {
		return nil, err
	}
	region := opts.Region
	if region == "" {
		region = defaultRegion
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = defaultStartTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	ready := make(chan string, 1)
	args := append([]string{script, "--host", "127.0.0.1", "--port", strconv.Itoa(opts.Port), "--exit-on-stdin-eof"}, opts.Args...)
	if opts.StateDir != "" {
		args = append(args, "--state-dir", opts.StateDir)
	}
	cmd := exec.Command(python, args...)
	cmd.Dir = dir
	cmd.Stdout = &readyWriter{ready: ready, next: opts.Stdout}
	stderr := &tailWriter{max: 4 << 10, next: opts.Stderr}
	if opts.Stderr == nil {
		stderr.next = os.Stderr
	}
	cmd.Stderr = stderr
	// Without it Wait could block on the output pipes if something inherited them and outlived moto.
	cmd.WaitDelay = 2 * time.Second
	setProcessGroup(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("motoserver: stdin pipe: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("motoserver: start %s %s: %w", python, script, err)
	}
	s := &Server{region: region, cmd: cmd, stdin: stdin, stderr: stderr, exited: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	select {
	case endpoint := <-ready:
		s.endpoint = endpoint
	case <-s.exited:
		return nil, fmt.Errorf("motoserver: moto exited before it was ready (%v); if moto is missing, run `make venv`:\n%s",
			s.waitErr, stderr.String())
	case <-ctx.Done():
		_ = s.Stop()
		return nil, fmt.Errorf("motoserver: moto not ready: %w:\n%s", ctx.Err(), stderr.String())
	}
	if err := s.waitHTTP(ctx); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("motoserver: %w:\n%s", err, stderr.String())
	}
	return s, nil
}

// paths resolves the interpreter, script and working directory, failing early with the remedy when the
// virtualenv is missing: exec's own error ("no such file or directory") would not say what to do.
func paths(opts Options) (python, script, dir string, err error) {
	dir = opts.Root
	if dir == "" && (opts.Python == "" || opts.Script == "") {
		if dir, err = ModuleRoot(); err != nil {
			return "", "", "", fmt.Errorf("motoserver: %w", err)
		}
	}
	python = opts.Python
	if python == "" {
		python = filepath.Join(dir, ".venv", "bin", "python")
	}
	script = opts.Script
	if script == "" {
		script = filepath.Join(dir, "infra", "moto", "serve.py")
	}
	if _, err := os.Stat(python); err != nil {
		return "", "", "", fmt.Errorf("motoserver: python %s not usable (run `make venv` in the module root to create the virtualenv with moto): %w", python, err)
	}
	if _, err := os.Stat(script); err != nil {
		return "", "", "", fmt.Errorf("motoserver: server script: %w", err)
	}
	return python, script, dir, nil
}

// waitHTTP polls until moto answers a request. The ready line already means the socket is bound; this
// also proves the WSGI app serves, so a broken moto install fails here rather than in the first test.
func (s *Server) waitHTTP(ctx context.Context) error {
	client := &http.Client{Timeout: 2 * time.Second}
	var lastErr error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.endpoint+"/", nil)
		if err != nil {
			return fmt.Errorf("probe %s: %w", s.endpoint, err)
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			return nil // any HTTP answer will do: moto is serving
		}
		lastErr = err
		select {
		case <-s.exited:
			return fmt.Errorf("moto exited while starting (%v)", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("moto at %s not answering: %w (last error: %v)", s.endpoint, ctx.Err(), lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Endpoint returns moto's base URL, http://127.0.0.1:PORT.
func (s *Server) Endpoint() string { return s.endpoint }

// Pid returns the moto process's id (to read its memory use in a benchmark, say).
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Stop terminates moto: SIGTERM to its process group, then SIGKILL if it has not exited within a few
// seconds. Calling Stop again returns the first result. It reports an error if moto had already exited
// on its own (it crashed) or had to be killed.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() { s.stopErr = s.stop() })
	return s.stopErr
}

func (s *Server) stop() error {
	select {
	case <-s.exited:
		return fmt.Errorf("motoserver: moto had already exited (%v):\n%s", s.waitErr, s.stderr.String())
	default:
	}
	s.stopping.Store(true)
	// Closing stdin alone would also stop it (serve.py watches for EOF); the signal reaches the whole group.
	termErr := terminate(s.cmd)
	_ = s.stdin.Close()
	timer := time.NewTimer(stopGrace)
	defer timer.Stop()
	select {
	case <-s.exited:
		return nil // exit status 0 or "signal: terminated": both are the stop we asked for
	case <-timer.C:
		_ = kill(s.cmd)
		<-s.exited
		return fmt.Errorf("motoserver: moto did not exit within %s of SIGTERM (%v); killed", stopGrace, termErr)
	}
}

// AWSConfig returns an aws.Config for this server: static credentials test/test, the server's region,
// BaseEndpoint set to Endpoint, and a retryer suited to loopback (few, short retries; no client-side
// retry quota, which a burst of expected conflicts in a concurrency test would otherwise exhaust). It
// deliberately does not read the environment or ~/.aws, so a developer's real profile cannot leak in.
// S3 clients also need S3Options.
func (s *Server) AWSConfig(ctx context.Context) (aws.Config, error) {
	if err := ctx.Err(); err != nil {
		return aws.Config{}, fmt.Errorf("motoserver: aws config: %w", err)
	}
	select {
	case <-s.exited:
		return aws.Config{}, fmt.Errorf("motoserver: aws config: moto is not running (%v)", s.waitErr)
	default:
	}
	return aws.Config{
		Region:       s.region,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("test", "test", "")),
		BaseEndpoint: aws.String(s.endpoint),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.BaseDelay = 10 * time.Millisecond
				o.MaxBackoff = 200 * time.Millisecond
				o.RateLimiter = ratelimit.None
			})
		},
	}, nil
}

// S3Options makes an S3 client use path-style addressing, which moto on loopback needs (see the package
// doc): s3.NewFromConfig(cfg, motoserver.S3Options).
func S3Options(o *s3.Options) { o.UsePathStyle = true }

// Region returns the region AWSConfig uses.
func (s *Server) Region() string { return s.region }

// parseReady extracts the endpoint from serve.py's ready line ("moto ready http://127.0.0.1:PORT").
func parseReady(line string) (string, bool) {
	raw, ok := strings.CutPrefix(line, readyPrefix)
	if !ok {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Port() == "" {
		return "", false
	}
	return "http://" + u.Host, true
}
