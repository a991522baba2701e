// Package e2e drives the local stack (`make run`'s binary, started here on a free port with its own moto)
// over HTTP, as the app and department systems would.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/infra/motoserver"
)

var (
	api         string
	apiContract *contract // the OpenAPI document's validator (validate_test.go)
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := motoserver.ModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if apiContract, err = newContract(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "civicsnap-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "civicsnap-local")
	build := exec.Command("go", "build", "-o", bin, "./infra/cmd/civicsnap-local")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build local runner:", err)
		return 1
	}
	port, err := freePort()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cmd := exec.Command(bin)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logs, _ := os.Create(filepath.Join(dir, "stack.log"))
	cmd.Stderr = logs
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start local runner:", err)
		return 1
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}()
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "ready") {
				ready <- true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(90 * time.Second):
		b, _ := os.ReadFile(filepath.Join(dir, "stack.log"))
		fmt.Fprintf(os.Stderr, "local runner did not become ready:\n%s\n", b)
		return 1
	}
	api = fmt.Sprintf("http://127.0.0.1:%d", port)
	code := m.Run()
	// The whole suite reaches every operation of the OpenAPI document, so each is checked against it: a
	// new route needs a test here as well as its place in the document.
	if rest := apiContract.unexercised(); len(rest) > 0 && flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == "" {
		fmt.Fprintf(os.Stderr, "OpenAPI contract: %d of %d operations not exercised by the suite: %s\n",
			len(rest), len(apiContract.routes), strings.Join(rest, ", "))
		if code == 0 {
			code = 1
		}
	}
	if code != 0 {
		b, _ := os.ReadFile(filepath.Join(dir, "stack.log"))
		fmt.Fprintf(os.Stderr, "--- local stack log (last 4 KiB) ---\n%s\n", tail(b, 4096))
	}
	return code
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// client is one user of the API.
type client struct {
	t     *testing.T
	token string
}

func login(t *testing.T, sub string, groups []string, dept string) *client {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"sub": sub, "groups": groups, "dept": dept})
	resp, err := http.Post(api+"/_local/token", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		t.Fatalf("token: %v %+v", err, out)
	}
	return &client{t: t, token: out.Token}
}

// call sends a JSON request and decodes a JSON response into out (when non-nil); it returns the status. The
// exchange is checked against the OpenAPI document.
func (c *client) call(method, path string, body any, headers map[string]string, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, api+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if c != nil && c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := httpClient(c.t).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

type upload struct {
	Key    string
	URL    string
	Fields map[string]string
}

// uploadPhoto asks for a presigned POST and sends data to S3 (moto) with it, as the app does.
func (c *client) uploadPhoto(contentType string, data []byte) string {
	c.t.Helper()
	var up upload
	if st := c.call("POST", "/v1/uploads", map[string]any{"contentType": contentType, "size": len(data)}, nil, &up); st != 201 {
		c.t.Fatalf("presign: %d", st)
	}
	var form bytes.Buffer
	resp, err := http.Post(up.URL, newMultipart(&form, up.Fields, data), &form)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		c.t.Fatalf("upload to S3: %d", resp.StatusCode)
	}
	return up.Key
}

// newMultipart writes a presigned POST form (fields, then the file) and returns its content type.
func newMultipart(form *bytes.Buffer, fields map[string]string, data []byte) string {
	mw := multipart.NewWriter(form)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "photo")
	_, _ = fw.Write(data)
	_ = mw.Close()
	return mw.FormDataContentType()
}
