package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// appChart is testdata/charts/app: a ConfigMap, a claim that pins the live
// volumeName once it exists, and optional rollback hooks.
const appChart = "../testdata/charts/app"

// history is a release made by a real helm CLI, the way users make them:
// revision 1 installs the claim without volumeName, the binder binds it, and
// revision 2 (an upgrade) renders the volumeName the chart looked up.
type history struct {
	t       *testing.T
	c       *testcluster.Cluster
	ns      string
	helm    *testcluster.Helm
	flags   []string // passed to every helm command that writes a revision
	release string
	claim   *corev1.PersistentVolumeClaim // as bound after revision 1
}

type historyOptions struct {
	helm         testcluster.HelmVersion
	flags        []string // e.g. --server-side=false
	storageClass string   // default "manual"
	revision1    []string // --set values of revision 1
	revision2    []string // --set values of revision 2
	env          []string // for helm and pvc-guard, e.g. HELM_DRIVER=configmap
}

func newHistory(t *testing.T, opts historyOptions) *history {
	t.Helper()
	c := testcluster.Get(t)
	h := &history{t: t, c: c, ns: c.Namespace(t), helm: c.Helm(t, opts.helm), flags: opts.flags, release: "app"}
	h.helm.Env = append(h.helm.Env, opts.env...)
	class := opts.storageClass
	if class == "" {
		class = "manual"
	}
	c.CreateHostPathPV(t, testcluster.VolumeOptions{StorageClassName: class, ClaimNamespace: h.ns, ClaimName: h.claimName()})
	h.helmOK(append([]string{"install", h.release, appChart, "--set", "claim.storageClassName=" + class}, sets(opts.revision1)...)...)
	h.claim = c.WaitForClaimBound(t, h.ns, h.claimName())
	h.helmOK(append([]string{"upgrade", h.release, appChart, "--set", "claim.storageClassName=" + class}, sets(opts.revision2)...)...)
	return h
}

func sets(values []string) []string {
	var args []string
	for _, v := range values {
		args = append(args, "--set", v)
	}
	return args
}

func (h *history) claimName() string { return h.release + "-data" }

// helm runs the stock CLI in the release's namespace with the history's flags.
func (h *history) helmRun(args ...string) testcluster.Result {
	h.t.Helper()
	return h.helm.Run(append(append(args, "--namespace", h.ns), h.flags...)...)
}

func (h *history) helmOK(args ...string) string {
	h.t.Helper()
	return succeeded(h.t, "helm", args, h.helmRun(args...))
}

// pvcGuard runs bin/pvc-guard with the same environment as the helm CLI.
func (h *history) pvcGuard(args ...string) testcluster.Result {
	h.t.Helper()
	cmd := exec.CommandContext(h.t.Context(), pvcGuardBinary(h.t), append(args, "--namespace", h.ns)...)
	cmd.Env = h.helm.Env
	return runCommand(cmd)
}

func (h *history) pvcGuardOK(args ...string) string {
	h.t.Helper()
	return succeeded(h.t, "pvc-guard", args, h.pvcGuard(args...))
}

// runCommand runs cmd and collects its outputs.
func runCommand(cmd *exec.Cmd) testcluster.Result {
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return testcluster.Result{Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
}

// succeeded fails the test unless r is a success, and returns its stdout.
func succeeded(t *testing.T, program string, args []string, r testcluster.Result) string {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("%s %s: %v\n%s", program, strings.Join(args, " "), r.Err, r.Stderr)
	}
	return r.Stdout
}

type revision struct {
	Revision    int    `json:"revision"`
	Status      string `json:"status"`
	Description string `json:"description"`
}

func (h *history) revisions() []revision {
	h.t.Helper()
	var revs []revision
	if err := json.Unmarshal([]byte(h.helm.MustRun("history", h.release, "--namespace", h.ns, "-o", "json")), &revs); err != nil {
		h.t.Fatalf("reading history: %v", err)
	}
	return revs
}

func (h *history) liveClaim() *corev1.PersistentVolumeClaim {
	h.t.Helper()
	claim, err := h.c.Client.CoreV1().PersistentVolumeClaims(h.ns).Get(h.t.Context(), h.claimName(), metav1.GetOptions{})
	if err != nil {
		h.t.Fatalf("reading claim: %v", err)
	}
	return claim
}

func (h *history) configMap(name string) (*corev1.ConfigMap, error) {
	return h.c.Client.CoreV1().ConfigMaps(h.ns).Get(h.t.Context(), name, metav1.GetOptions{})
}

var (
	buildOnce sync.Once
	builtPath string
	buildErr  error
)

// pvcGuardBinary is $PVC_GUARD_BIN (make test sets it; make build puts
// pvc-guard-rollback next to it), else both binaries built once per test run
// from this checkout, side by side, as `pvc-guard rollback` finds them.
func pvcGuardBinary(t *testing.T) string {
	t.Helper()
	if path := os.Getenv("PVC_GUARD_BIN"); path != "" {
		return path
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pvc-guard-e2e")
		if err != nil {
			buildErr = err
			return
		}
		builtPath = filepath.Join(dir, "pvc-guard")
		if out, err := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "..", "../cmd/pvc-guard-rollback").CombinedOutput(); err != nil {
			buildErr = &buildFailure{err: err, out: string(out)}
		}
	})
	if buildErr != nil {
		t.Fatalf("building pvc-guard: %v", buildErr)
	}
	return builtPath
}

type buildFailure struct {
	err error
	out string
}

func (b *buildFailure) Error() string { return b.err.Error() + "\n" + b.out }
