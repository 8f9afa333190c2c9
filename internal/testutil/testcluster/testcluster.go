// Package testcluster gives end-to-end tests a real Kubernetes control plane
// (etcd, kube-apiserver and kube-controller-manager, built by
// `make cluster-build` and started by cluster/up.sh) and the real helm3 and
// helm4 CLIs.
//
// A test process shares one cluster of the Kubernetes minor PVC_GUARD_K8S
// selects (cluster/lib.sh holds the default and the choices; the scripts
// tell this package, so the two never disagree). Get finds it, in this order:
//
//  1. the cluster whose admin kubeconfig PVC_GUARD_KUBECONFIG names, of
//     whatever version it is;
//  2. a running cluster in the state directory (PVC_GUARD_STATE, by default
//     one per minor; `make cluster-up`), which is reused and left running,
//     and must run the selected minor;
//  3. a new cluster in a private state directory, started on first use and
//     stopped by Main after the tests, or by a watchdog process if the test
//     binary dies first (panic, timeout, kill).
//
// Every test gets its own namespace (Namespace) and its own Helm homes
// (Helm), so tests can run in parallel and never touch the user's Helm
// setup. When the binaries are missing, tests are skipped, or fail when
// PVC_GUARD_E2E=require (as `make test` and CI set it).
package testcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Environment variables that steer the package.
const (
	// EnvE2E set to "require" turns a missing cluster into a test failure
	// instead of a skip.
	EnvE2E = "PVC_GUARD_E2E"
	// EnvKubeconfig names the admin kubeconfig of a running cluster to use
	// instead of starting one.
	EnvKubeconfig = "PVC_GUARD_KUBECONFIG"
	// EnvK8s selects the Kubernetes minor ("1.34", "1.37") of the clusters
	// this package starts or reuses.
	EnvK8s = "PVC_GUARD_K8S"
)

// buildHint tells the reader of a skip or failure how to get the binaries.
const buildHint = "build them with `make cluster-build` in the repository root (about 15 minutes the first time)"

// Cluster is a running control plane.
type Cluster struct {
	// Kubeconfig is the path of an admin (system:masters) kubeconfig.
	Kubeconfig string
	// Config and Client talk to the cluster as that admin.
	Config *rest.Config
	Client kubernetes.Interface
	// BinDir holds helm3, helm4 and kustomize.
	BinDir string
	// KubeBinDir holds kubectl and the control plane of the selected
	// Kubernetes minor.
	KubeBinDir string
	// KubeVersion is the API server's major.minor, e.g. "1.37".
	KubeVersion string

	// stop stops the cluster; nil when this process did not start it.
	stop func() error
}

// The cluster of this test process, found or started by the first Get.
var (
	once      sync.Once
	shared    *Cluster
	sharedErr error
)

// Main runs the tests of a package, then stops the cluster if this process
// started one. Use it from TestMain:
//
//	func TestMain(m *testing.M) { testcluster.Main(m) }
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) (code int) {
	// Deferred, so the cluster is stopped even if m.Run panics on this
	// goroutine; a panicking test goroutine kills the process instead, and
	// then the watchdog started by up.sh --owner stops the cluster.
	defer func() {
		if err := Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testcluster:", err)
			if code == 0 {
				code = 1
			}
		}
	}()
	return m.Run()
}

// Get returns this test process's cluster, starting it on first use. It
// skips t (or fails it under PVC_GUARD_E2E=require) when the binaries are
// missing, and fails t when a cluster cannot be found or started.
func Get(t testing.TB) *Cluster {
	t.Helper()
	once.Do(func() {
		began := time.Now()
		shared, sharedErr = find()
		if sharedErr == nil && shared.stop != nil {
			t.Logf("started a control plane in %s", time.Since(began).Round(100*time.Millisecond))
		}
	})
	if sharedErr != nil {
		failOrSkip(t, sharedErr)
	}
	return shared
}

// Stop stops the cluster if this process started it. Main calls it; tests
// that do not use Main need not, since the watchdog stops the cluster soon
// after the test process exits.
func Stop() error {
	if shared == nil || shared.stop == nil {
		return nil
	}
	err := shared.stop()
	shared.stop = nil
	return err
}

// missingError reports binaries that `make cluster-build` would provide.
type missingError struct{ paths []string }

func (e *missingError) Error() string {
	return fmt.Sprintf("missing %s: %s", strings.Join(e.paths, ", "), buildHint)
}

// failOrSkip ends t because of err: a skip when only binaries are missing
// and PVC_GUARD_E2E is not "require", a failure otherwise.
func failOrSkip(t testing.TB, err error) {
	t.Helper()
	var missing *missingError
	if errors.As(err, &missing) && os.Getenv(EnvE2E) != "require" {
		t.Skipf("skipping end-to-end test: %v (set %s=require to fail instead)", err, EnvE2E)
	}
	t.Fatalf("end-to-end test needs a cluster: %v", err)
}

// find connects to the cluster named by PVC_GUARD_KUBECONFIG, else to the
// one running in the state directory, else starts a private one.
func find() (*Cluster, error) {
	p, err := locate()
	if err != nil {
		return nil, err
	}
	if kubeconfig := os.Getenv(EnvKubeconfig); kubeconfig != "" {
		c, err := connect(kubeconfig, p)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %w", EnvKubeconfig, kubeconfig, err)
		}
		return c, nil
	}
	if c, err := connect(filepath.Join(p.state, "admin.kubeconfig"), p); err == nil {
		if c.KubeVersion != p.k8s {
			return nil, fmt.Errorf("the cluster running in %s is Kubernetes %s, not %s=%s: select its minor, use another PVC_GUARD_STATE or stop it",
				p.state, c.KubeVersion, EnvK8s, p.k8s)
		}
		return c, nil
	}
	if err := checkBinaries(p.k8sBin, "etcd", "kube-apiserver", "kube-controller-manager", "kubectl"); err != nil {
		return nil, err
	}
	return startPrivate(p)
}

// paths are where the scripts, binaries and default state live, as
// cluster/paths.sh reports them.
type paths struct {
	scripts string // the repository's cluster/ directory
	k8s     string // PVC_GUARD_K8S, the selected minor
	bin     string // CLUSTER_BIN: Helm and kustomize
	k8sBin  string // K8S_BIN: the selected minor's control plane and kubectl
	state   string // PVC_GUARD_STATE
}

func locate() (paths, error) {
	scripts, err := findScripts()
	if err != nil {
		return paths{}, err
	}
	out, err := exec.Command(filepath.Join(scripts, "paths.sh")).Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return paths{}, fmt.Errorf("cluster/paths.sh: %w: %s", err, bytes.TrimSpace(exit.Stderr))
		}
		return paths{}, fmt.Errorf("cluster/paths.sh: %w", err)
	}
	vars := map[string]string{}
	for line := range strings.Lines(string(out)) {
		name, value, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "=")
		vars[name] = value
	}
	p := paths{scripts: scripts, k8s: vars["PVC_GUARD_K8S"], bin: vars["CLUSTER_BIN"],
		k8sBin: vars["K8S_BIN"], state: vars["PVC_GUARD_STATE"]}
	if p.k8s == "" || p.bin == "" || p.k8sBin == "" || p.state == "" {
		return paths{}, fmt.Errorf("cluster/paths.sh printed %q, want PVC_GUARD_K8S, CLUSTER_BIN, K8S_BIN and PVC_GUARD_STATE", out)
	}
	return p, nil
}

// findScripts walks up from the working directory (a test runs in its
// package's directory) to the repository's cluster/ directory.
func findScripts() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding cluster/up.sh: %w", err)
	}
	for {
		candidate := filepath.Join(dir, "cluster")
		if _, err := os.Stat(filepath.Join(candidate, "up.sh")); err == nil {
			return candidate, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cluster/up.sh not found in the working directory or any parent")
		}
		dir = parent
	}
}

func checkBinaries(dir string, names ...string) error {
	var missing []string
	for _, name := range names {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			missing = append(missing, path)
		}
	}
	if len(missing) > 0 {
		return &missingError{paths: missing}
	}
	return nil
}

// connect loads kubeconfig, checks that the API server is ready and reads
// its version.
func connect(kubeconfig string, p paths) (*Cluster, error) {
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("creating a client: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("API server at %s is not ready: %w", config.Host, err)
	}
	if string(body) != "ok" {
		return nil, fmt.Errorf("API server at %s is not ready: /readyz says %q", config.Host, body)
	}
	version, err := client.Discovery().ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("reading the version of the API server at %s: %w", config.Host, err)
	}
	return &Cluster{Kubeconfig: kubeconfig, Config: config, Client: client, BinDir: p.bin, KubeBinDir: p.k8sBin,
		KubeVersion: version.Major + "." + version.Minor}, nil
}

// startPrivate starts a cluster in a fresh state directory, so that parallel
// test processes (go test runs packages in parallel) never share or race for
// one. up.sh --owner ties the cluster to this process: its watchdog stops
// the cluster if the process dies without calling Stop.
func startPrivate(p paths) (*Cluster, error) {
	dir, err := os.MkdirTemp("", "pvc-guard-e2e-")
	if err != nil {
		return nil, fmt.Errorf("creating a state directory: %w", err)
	}
	// The scripts put a lock file next to the state directory, so the state
	// is a subdirectory and removing dir removes both.
	state := filepath.Join(dir, "cluster")
	script := func(name string, args ...string) error {
		cmd := exec.Command(filepath.Join(p.scripts, name), args...)
		cmd.Env = append(os.Environ(), "CLUSTER_BIN="+p.bin, EnvK8s+"="+p.k8s, "PVC_GUARD_STATE="+state)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", name, err, out)
		}
		return nil
	}
	stop := func() error {
		if err := script("down.sh"); err != nil {
			return fmt.Errorf("stopping the test cluster: %w", err)
		}
		return os.RemoveAll(dir)
	}
	if err := script("up.sh", "--owner", fmt.Sprint(os.Getpid())); err != nil {
		// up.sh has stopped whatever it started.
		return nil, errors.Join(fmt.Errorf("starting a test cluster: %w", err), os.RemoveAll(dir))
	}
	c, err := connect(filepath.Join(state, "admin.kubeconfig"), p)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("connecting to the test cluster: %w", err), stop())
	}
	c.stop = stop
	return c, nil
}
