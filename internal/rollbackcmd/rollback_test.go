package rollbackcmd

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"

	"github.com/pvc-guard/pvc-guard/internal/cli"
)

// helmEnv are the variables Helm's settings read; each test starts with all
// of them unset.
var helmEnv = []string{
	"KUBECONFIG", "HELM_KUBECONFIG", "HELM_KUBECONTEXT", "HELM_NAMESPACE", "HELM_KUBETOKEN",
	"HELM_KUBEASUSER", "HELM_KUBEASGROUPS", "HELM_KUBEAPISERVER", "HELM_KUBECAFILE",
	"HELM_KUBEINSECURE_SKIP_TLS_VERIFY", "HELM_KUBETLS_SERVER_NAME", "HELM_BURST_LIMIT", "HELM_QPS",
	"HELM_MAX_HISTORY", "HELM_DRIVER", "KUBERNETES_SERVICE_HOST",
}

func isolateEnv(t *testing.T) {
	t.Helper()
	t.Setenv("HOME", t.TempDir()) // no ~/.kube/config
	for _, name := range helmEnv {
		t.Setenv(name, "") // restores the value after the test
		os.Unsetenv(name)
	}
}

// TestBothBinariesResolveTheClusterAlike: pvc-guard resolves the cluster
// flags and HELM_* variables with client-go alone, pvc-guard-rollback hands
// the same flags to Helm's own settings; both must reach the same
// namespace and client configuration, whatever the flags and environment.
func TestBothBinariesResolveTheClusterAlike(t *testing.T) {
	// internal/cli's cluster-flag test uses them too.
	config, _ := filepath.Abs("../../testdata/kubeconfig/two-clusters.yaml")
	caFile, _ := filepath.Abs("../../testdata/kubeconfig/ca.crt")
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		loads bool // the kubeconfig must load
	}{
		{name: "KUBECONFIG", env: map[string]string{"KUBECONFIG": config}},
		{name: "KUBECONFIG is a list whose first file is missing", env: map[string]string{"KUBECONFIG": "/nonexistent" + string(filepath.ListSeparator) + config}, loads: true},
		{name: "HELM_KUBECONFIG is ignored", env: map[string]string{"HELM_KUBECONFIG": config}},
		{name: "the flags", env: map[string]string{"KUBECONFIG": "/nonexistent", "HELM_NAMESPACE": "env-ns"},
			args: []string{"--kubeconfig", config, "--kube-context", "without-ns", "-n", "flag-ns"}},
		{name: "HELM_NAMESPACE and HELM_KUBECONTEXT", env: map[string]string{"KUBECONFIG": config, "HELM_NAMESPACE": "env-ns", "HELM_KUBECONTEXT": "without-ns"}},
		{name: "every other HELM_KUBE variable", env: map[string]string{
			"KUBECONFIG": config, "HELM_KUBETOKEN": "env-token", "HELM_KUBEASUSER": "jane", "HELM_KUBEASGROUPS": ", admins, ops ,",
			"HELM_KUBEAPISERVER": "https://elsewhere:443", "HELM_KUBECAFILE": caFile, "HELM_KUBETLS_SERVER_NAME": "api.internal",
			"HELM_BURST_LIMIT": "7", "HELM_QPS": "2.5",
		}},
		{name: "every other global flag", env: map[string]string{"KUBECONFIG": config, "HELM_KUBETOKEN": "env-token", "HELM_KUBEASGROUPS": "env-group"},
			args: []string{"--kube-token", "flag-token", "--kube-as-user", "jane", "--kube-as-group", "admins", "--kube-as-group=ops",
				"--kube-apiserver", "https://elsewhere:443", "--kube-ca-file", caFile, "--kube-tls-server-name=api.internal",
				"--burst-limit", "7", "--qps", "2.5"}, loads: true},
		{name: "--kube-insecure-skip-tls-verify", env: map[string]string{"KUBECONFIG": config}, args: []string{"--kube-insecure-skip-tls-verify"}, loads: true},
		{name: "HELM_KUBEINSECURE_SKIP_TLS_VERIFY", env: map[string]string{"KUBECONFIG": config, "HELM_KUBEINSECURE_SKIP_TLS_VERIFY": "1"}},
		{name: "unparsable numbers", env: map[string]string{"KUBECONFIG": config, "HELM_BURST_LIMIT": "many", "HELM_QPS": "fast"}},
		{name: "a broken kubeconfig", env: map[string]string{"KUBECONFIG": "/nonexistent", "HELM_NAMESPACE": "env-ns"}},
		{name: "no kubeconfig at all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			slimFlags := cli.NewClusterFlags()
			fs := pflag.NewFlagSet("pvc-guard", pflag.ContinueOnError)
			slimFlags.AddFlags(fs)
			o := NewRollbackOptions(cli.Streams{})
			cmd := &cobra.Command{}
			o.AddFlags(cmd)
			for _, err := range []error{fs.Parse(tt.args), cmd.Flags().Parse(tt.args)} {
				if err != nil {
					t.Fatal(err)
				}
			}
			slimNamespace := slimFlags.Namespace()
			slim, slimErr := slimFlags.RESTConfig()
			helmNamespace := o.settings.Namespace()
			helm, helmErr := o.settings.RESTClientGetter().ToRESTConfig()

			if slimNamespace != helmNamespace {
				t.Errorf("namespace %q, Helm's %q", slimNamespace, helmNamespace)
			}
			if tt.loads && helmErr != nil {
				t.Fatalf("Helm's settings do not load the kubeconfig: %v", helmErr)
			}
			if (slimErr != nil) != (helmErr != nil) {
				t.Fatalf("error %v, Helm's %v", slimErr, helmErr)
			}
			if slimErr == nil && !reflect.DeepEqual(comparable(slim), comparable(helm)) {
				t.Errorf("client configuration\n%+v\nHelm's\n%+v", comparable(slim), comparable(helm))
			}
		})
	}
}

// comparable drops what differs by design: the user agent names its
// program, and Helm wraps the transport to retry on etcd leader changes.
func comparable(config *rest.Config) rest.Config {
	c := *config
	c.UserAgent = ""
	c.WrapTransport = nil
	return c
}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Execute(args, cli.Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return code, out.String(), errOut.String()
}

// TestRollbackCommandLine: help and errors name the command as users type
// it, and arguments that cannot work are refused before Helm or the cluster
// are touched (the kubeconfig here points nowhere).
func TestRollbackCommandLine(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr string
	}{
		{name: "help", args: []string{"--help"}, wantStdout: []string{
			"Usage:\n  pvc-guard rollback RELEASE [REVISION] [flags]\n", "pvc-guard rollback grafana 1 -n monitoring --dry-run",
			"--kube-context string", "--kube-token string", "--debug", "--burst-limit int", "--wait strategy[=watcher]", "--on-conflict string", "help for rollback\n",
		}},
		{name: "every global flag of helm rollback, before and after the arguments", args: []string{
			"--debug", "--burst-limit", "5", "--qps=3", "--color", "never", "--colour=never", "--registry-config", "r", "app",
			"--repository-config", "c", "--repository-cache", "d", "--content-cache", "e", "--kube-token", "t", "--kube-as-user", "u",
			"--kube-as-group", "g", "--kube-apiserver", "https://127.0.0.1:1", "--kube-ca-file", "f", "--kube-tls-server-name", "s",
			"--kube-insecure-skip-tls-verify", "--kube-context", "", "1",
		}, wantCode: 1, wantStderr: "unable to read certificate-authority f "},
		{name: "version", args: []string{"--version"}, wantStdout: []string{"pvc-guard-rollback dev\n"}},
		{name: "no release", args: nil, wantCode: 1, wantStderr: "Error: accepts between 1 and 2 arg(s), received 0"},
		{name: "revision not a number", args: []string{"app", "one"}, wantCode: 1, wantStderr: `revision must be a number, not "one"`},
		{name: "negative revision", args: []string{"app", "-1"}, wantCode: 1, wantStderr: "unknown shorthand flag: '1'"},
		{name: "bad --server-side", args: []string{"app", "--server-side", "maybe"}, wantCode: 1, wantStderr: `--server-side must be "true", "false" or "auto", not "maybe"`},
		{name: "bad --on-conflict", args: []string{"app", "--on-conflict", "ignore"}, wantCode: 1, wantStderr: `--on-conflict must be "fail" or "keep-live"`},
		{name: "bad --wait", args: []string{"app", "--wait=forever"}, wantCode: 1, wantStderr: `must be "watcher", "hookOnly" or "legacy", not "forever"`},
		{name: "--force with --force-conflicts", args: []string{"app", "--force", "--force-conflicts"}, wantCode: 1, wantStderr: "[force force-conflicts] were all set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			t.Setenv("KUBECONFIG", "/nonexistent")
			code, stdout, stderr := run(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.wantCode, stderr)
			}
			for _, want := range tt.wantStdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, stderr)
			}
		})
	}
}

func TestWaitFlag(t *testing.T) {
	tests := []struct{ value, want string }{
		{"watcher", "watcher"}, {"hookOnly", "hookOnly"}, {"legacy", "legacy"},
		{"true", "watcher"}, {"false", "hookOnly"}, {"yes", ""},
	}
	for _, tt := range tests {
		var w waitFlag
		err := w.Set(tt.value)
		if got := w.String(); got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("Set(%q) = %q, %v; want %q", tt.value, got, err, tt.want)
		}
	}
}
