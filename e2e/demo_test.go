package e2e

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// TestDemo runs `make demo`'s script as the README tells a new user to: it
// starts a cluster of its own, tells the rollback story with the real helm3
// and helm4, and exits 0 only when every step behaved as it narrates. The
// demo's chart is examples/grafana-like, so a change to the chart or to the
// rules that breaks the story fails here.
func TestDemo(t *testing.T) {
	testcluster.Get(t) // the binaries are there (or the test is skipped, as every e2e test)
	cmd := exec.Command("../cluster/demo.sh")
	out := succeeded(t, "cluster/demo.sh", nil, run(cmd, withEnv(cmd.Environ(), "PVC_GUARD_BIN="+pvcGuardBinary(t)), ""))
	if !strings.Contains(out, "Every step behaved as described") {
		t.Errorf("the demo did not finish its story:\n%s", out)
	}
}
