package testcluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Helm runs one Helm CLI (helm3 or helm4) against a cluster.
type Helm struct {
	// Bin is the path of the helm binary.
	Bin string
	// Env is the complete environment of every run: the test process's,
	// minus HELM_* and KUBECONFIG, plus the cluster's kubeconfig, private
	// Helm homes and KubeBinDir and BinDir first on PATH.
	Env []string

	t testing.TB
}

// HelmVersion names a Helm CLI built by `make cluster-build`.
type HelmVersion string

// The two Helm majors pvc-guard supports.
const (
	Helm3 HelmVersion = "helm3"
	Helm4 HelmVersion = "helm4"
)

// Helm returns a Helm CLI with cache, config and data homes private to t.
// Every call makes new homes; call it once per major in a test that needs
// both (Helm 3 refuses plugin files written for Helm 4, so they must not
// share a home).
func (c *Cluster) Helm(t testing.TB, version HelmVersion) *Helm {
	t.Helper()
	if err := checkBinaries(c.BinDir, string(version)); err != nil {
		failOrSkip(t, err)
	}
	home := t.TempDir()
	env := []string{
		"KUBECONFIG=" + c.Kubeconfig,
		"HELM_CACHE_HOME=" + filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME=" + filepath.Join(home, "config"),
		"HELM_DATA_HOME=" + filepath.Join(home, "data"),
	}
	for _, kv := range os.Environ() {
		name, value, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "HELM_") || name == "KUBECONFIG":
			// Never let the developer's Helm setup leak into a test.
		case name == "PATH":
			env = append(env, "PATH="+strings.Join([]string{c.KubeBinDir, c.BinDir, value}, string(os.PathListSeparator)))
		default:
			env = append(env, kv)
		}
	}
	return &Helm{Bin: filepath.Join(c.BinDir, string(version)), Env: env, t: t}
}

// Result is the outcome of one Helm run.
type Result struct {
	Stdout, Stderr string
	// Err is nil when Helm exited 0, an *exec.ExitError otherwise.
	Err error
}

// Run runs Helm with args and returns what it printed. It is cancelled when
// the test ends.
func (h *Helm) Run(args ...string) Result {
	h.t.Helper()
	cmd := exec.CommandContext(h.t.Context(), h.Bin, args...)
	cmd.Env = h.Env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	h.t.Logf("$ %s %s (exit: %v)", filepath.Base(h.Bin), strings.Join(args, " "), exitStatus(err))
	return Result{Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
}

// MustRun is Run that fails the test, showing Helm's output, unless Helm
// exits 0. It returns Helm's standard output.
func (h *Helm) MustRun(args ...string) string {
	h.t.Helper()
	r := h.Run(args...)
	if r.Err != nil {
		h.t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s",
			filepath.Base(h.Bin), strings.Join(args, " "), r.Err, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

func exitStatus(err error) string {
	if err == nil {
		return "0"
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Sprint(exit.ExitCode())
	}
	return err.Error()
}
