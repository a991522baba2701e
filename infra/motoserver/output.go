package motoserver

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// maxLine bounds how much of an unterminated stdout line readyWriter buffers.
const maxLine = 64 << 10

// readyWriter receives moto's stdout: it forwards everything to next and sends the endpoint from the
// first ready line on ready. exec.Cmd calls Write from one goroutine, so it needs no lock.
type readyWriter struct {
	ready chan<- string // buffered (1); receives at most one value
	next  io.Writer
	line  []byte
	found bool
}

func (w *readyWriter) Write(p []byte) (int, error) {
	if !w.found {
		w.scan(p)
	}
	if w.next != nil {
		// A failing destination must not make exec stop draining moto's stdout and block it.
		_, _ = w.next.Write(p)
	}
	return len(p), nil
}

func (w *readyWriter) scan(p []byte) {
	w.line = append(w.line, p...)
	for {
		i := bytes.IndexByte(w.line, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(w.line[:i]), "\r")
		w.line = w.line[i+1:]
		if endpoint, ok := parseReady(line); ok {
			w.found = true
			w.line = nil
			w.ready <- endpoint
			return
		}
	}
	if len(w.line) > maxLine {
		w.line = w.line[len(w.line)-maxLine:]
	}
}

// tailWriter forwards to next and keeps the last max bytes, to quote in errors. String may be called
// while exec is still writing, hence the lock.
type tailWriter struct {
	max  int
	next io.Writer

	mu  sync.Mutex
	buf []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf = append(w.buf, p...)
	if len(w.buf) > w.max {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-w.max:]...)
	}
	w.mu.Unlock()
	if w.next != nil {
		_, _ = w.next.Write(p)
	}
	return len(p), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
