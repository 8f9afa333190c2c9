package e2e

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// TestRenderAgainstTheCluster runs the post-renderer on a chart's rendered
// manifests against the real API server: the live claim's fields are
// filled in, and each failure leaves stdout empty with a message saying
// what to do.
func TestRenderAgainstTheCluster(t *testing.T) {
	h := newHistory(t, historyOptions{helm: testcluster.Helm3})
	rendered := h.helm.MustRun("template", h.release, appChart, "--namespace", h.ns)
	unreachable := unreachableKubeconfig(t)
	cases := []struct {
		name       string
		args       []string
		wantStdout string // "" means stdout must be empty
		wantStderr string
	}{
		{"live claim fills the chart", nil, "volumeName: " + h.claim.Spec.VolumeName, "/app-data spec.volumeName"},
		{"RBAC forbidden", []string{"--kubeconfig", h.unprivilegedKubeconfig()}, "", "RBAC forbids get persistentvolumeclaims in namespace"},
		{"cluster unreachable", []string{"--kubeconfig", unreachable, "--request-timeout", "5s"}, "", "cannot get persistentvolumeclaims"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), pvcGuardBinary(t), append([]string{"render", "--namespace", h.ns}, tc.args...)...)
			cmd.Env = h.helm.Env
			cmd.Stdin = strings.NewReader(rendered)
			r := runCommand(cmd)
			if (tc.wantStdout == "") != (r.Err != nil) {
				t.Errorf("exit error %v; stderr:\n%s", r.Err, r.Stderr)
			}
			if tc.wantStdout == "" && r.Stdout != "" {
				t.Errorf("stdout must be empty on error, got:\n%s", r.Stdout)
			}
			if !strings.Contains(r.Stdout, tc.wantStdout) || !strings.Contains(r.Stderr, tc.wantStderr) {
				t.Errorf("want stdout with %q and stderr with %q; got:\n%s\n%s", tc.wantStdout, tc.wantStderr, r.Stdout, r.Stderr)
			}
		})
	}
}

// TestUpgradeThroughPostRenderer: an upgrade whose chart drops the claim's
// storageClassName is refused by the API server, and goes through with
// pvc-guard as Helm 3's post-renderer, which keeps the live class.
func TestUpgradeThroughPostRenderer(t *testing.T) {
	h := newHistory(t, historyOptions{helm: testcluster.Helm3})
	noClass := []string{"upgrade", h.release, appChart, "--set", "claim.storageClassName="}
	if r := h.helmRun(noClass...); r.Err == nil || !strings.Contains(r.Stderr, immutableMessage) {
		t.Fatalf("stock upgrade: want %q, got %v\n%s", immutableMessage, r.Err, r.Stderr)
	}
	h.helmOK(append(noClass, "--post-renderer", pvcGuardBinary(t), "--post-renderer-args=--namespace="+h.ns)...)
	assertUnchanged(t, h.c.Client, h.claim)
	manifest := h.helm.MustRun("get", "manifest", h.release, "--namespace", h.ns)
	if !strings.Contains(manifest, "# pvc-guard: spec.storageClassName") {
		t.Errorf("stored manifest lacks pvc-guard's note:\n%s", manifest)
	}
}
