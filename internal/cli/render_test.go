package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const chartClaim = `---
# Source: app/templates/pvc.yaml
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
`

// liveClaims holds a bound claim "data" in each of several namespaces, each
// with its own volume, so the output shows which namespace was used.
const liveClaims = `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: data, namespace: flag-ns}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}, storageClassName: manual, volumeMode: Filesystem, volumeName: pv-flag}, status: {phase: Bound}}
- {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: data, namespace: env-ns}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}, storageClassName: manual, volumeMode: Filesystem, volumeName: pv-env}, status: {phase: Bound}}
- {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: data, namespace: context-ns}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}, storageClassName: manual, volumeMode: Filesystem, volumeName: pv-context}, status: {phase: Bound}}
- {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: data, namespace: default}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}, storageClassName: manual, volumeMode: Filesystem, volumeName: pv-default}, status: {phase: Bound}}
`

const kubeconfigWithNamespace = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user: {token: t}
contexts:
- name: with-ns
  context: {cluster: c, user: u, namespace: context-ns}
- name: without-ns
  context: {cluster: c, user: u}
current-context: with-ns
`

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Execute(args, Streams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	return result{code, out.String(), errOut.String()}
}

// expect checks a run: its exit code, that stdout holds wantStdout (""
// means stdout must be empty, as after any error), and that stderr holds
// each of wantStderr.
func (r result) expect(t *testing.T, wantCode int, wantStdout string, wantStderr ...string) {
	t.Helper()
	if r.code != wantCode {
		t.Errorf("exit %d, want %d; stderr: %s", r.code, wantCode, r.stderr)
	}
	if wantStdout == "" && r.stdout != "" {
		t.Errorf("stdout must be empty, got:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, wantStdout) {
		t.Errorf("stdout lacks %q:\n%s", wantStdout, r.stdout)
	}
	for _, want := range wantStderr {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// isolateEnv unsets the variables Helm reads, so the developer's own
// environment never leaks into a test.
func isolateEnv(t *testing.T) {
	t.Helper()
	t.Setenv("HOME", t.TempDir()) // no ~/.kube/config
	for _, name := range []string{
		"KUBECONFIG", "HELM_KUBECONFIG", "HELM_KUBECONTEXT", "HELM_NAMESPACE", "HELM_KUBETOKEN",
		"HELM_KUBEASUSER", "HELM_KUBEASGROUPS", "HELM_KUBEAPISERVER", "HELM_KUBECAFILE",
		"HELM_KUBEINSECURE_SKIP_TLS_VERIFY", "HELM_KUBETLS_SERVER_NAME", "HELM_BURST_LIMIT", "HELM_QPS", "HELM_DRIVER",
		"KUBERNETES_SERVICE_HOST", // no in-cluster configuration
	} {
		t.Setenv(name, "") // restores the value after the test
		os.Unsetenv(name)
	}
}

func TestNamespaceResolutionFollowsHelm(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		context string
		want    string
	}{
		{name: "--namespace wins", args: []string{"-n", "flag-ns"}, env: map[string]string{"HELM_NAMESPACE": "env-ns"}, context: "with-ns", want: "pv-flag"},
		{name: "then HELM_NAMESPACE", env: map[string]string{"HELM_NAMESPACE": "env-ns"}, context: "with-ns", want: "pv-env"},
		{name: "then the kubeconfig context's namespace", context: "with-ns", want: "pv-context"},
		{name: "HELM_KUBECONTEXT picks the context", env: map[string]string{"HELM_KUBECONTEXT": "without-ns"}, context: "with-ns", want: "pv-default"},
		{name: "--kube-context picks the context", args: []string{"--kube-context", "without-ns"}, context: "with-ns", want: "pv-default"},
		{name: "else default", context: "without-ns", want: "pv-default"},
	}
	live := writeFile(t, "live.yaml", liveClaims)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			kubeconfig := writeFile(t, "kubeconfig", strings.Replace(kubeconfigWithNamespace, "current-context: with-ns", "current-context: "+tt.context, 1))
			t.Setenv("KUBECONFIG", kubeconfig)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			r := run(t, chartClaim, append([]string{"--live-state", live}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if !strings.Contains(r.stdout, "volumeName: "+tt.want) {
				t.Errorf("want volumeName %s, got:\n%s", tt.want, r.stdout)
			}
		})
	}
}

func TestRenderOutcomes(t *testing.T) {
	live := writeFile(t, "live.yaml", liveClaims)
	conflicting := strings.Replace(chartClaim, "spec:\n", "spec:\n  volumeName: pv-other\n", 1)
	tests := []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantStdout string // substring; "" means stdout must be empty
		wantStderr []string
	}{
		{
			name: "rewrite with summary", stdin: chartClaim, args: []string{"render", "-n", "flag-ns", "--live-state", live},
			wantStdout: "volumeName: pv-flag", wantStderr: []string{"1 object(s) checked, 1 live, 2 field(s) preserved", "flag-ns/data spec.volumeName"},
		},
		{
			name: "conflict fails with nothing on stdout", stdin: conflicting, args: []string{"-n", "flag-ns", "--live-state", live},
			wantCode: 1, wantStderr: []string{"spec.volumeName", `chart wants "pv-other", live is "pv-flag"`, "--on-conflict=keep-live"},
		},
		{
			name: "keep-live resolves a conflict", stdin: conflicting, args: []string{"-n", "flag-ns", "--live-state", live, "--on-conflict", "keep-live"},
			wantStdout: "volumeName: pv-flag",
		},
		{
			name: "invalid YAML names the document", stdin: chartClaim + "  bad: [\n", args: []string{"-n", "flag-ns", "--live-state", live},
			wantCode: 1, wantStderr: []string{"document 0 (app/templates/pvc.yaml)", "invalid YAML"},
		},
		{
			name: "unreadable live state", stdin: chartClaim, args: []string{"--live-state", "/nonexistent/live.yaml"},
			wantCode: 1, wantStderr: []string{"reading live state", "/nonexistent/live.yaml"},
		},
		{
			name: "unreachable API server", stdin: chartClaim, args: []string{"-n", "apps", "--kubeconfig", writeFile(t, "kc", kubeconfigWithNamespace), "--request-timeout", "5s"},
			wantCode: 1, wantStderr: []string{"cannot get persistentvolumeclaims in namespace \"apps\" at https://127.0.0.1:1"},
		},
		{
			name: "bad --on-conflict", stdin: chartClaim, args: []string{"--on-conflict", "maybe"},
			wantCode: 1, wantStderr: []string{`--on-conflict must be "fail" or "keep-live"`},
		},
		{
			name: "a bad --rules file names the file and the entry", stdin: chartClaim,
			args:     []string{"--live-state", live, "--rules", writeFile(t, "bad-rules.yaml", "apiVersion: pvc-guard.io/v1alpha1\nkind: RuleSet\nname: bad\nrules:\n- name: my-rule\n  resource: {kind: Widget}\n  path: spec.x\n  policy: foo\n  reason: r\n")},
			wantCode: 1, wantStderr: []string{`bad-rules.yaml: rule 1 (my-rule): unknown policy "foo"`},
		},
		{
			name: "--kube-version only with --live-state", stdin: chartClaim, args: []string{"--kube-version", "1.34"},
			wantCode: 1, wantStderr: []string{"--kube-version is for --live-state"},
		},
		{
			name: "unexpected argument", stdin: chartClaim, args: []string{"extra"},
			wantCode: 1, wantStderr: []string{"unknown command"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			run(t, tt.stdin, tt.args...).expect(t, tt.wantCode, tt.wantStdout, tt.wantStderr...)
		})
	}
}

func TestReportFileIsWrittenEvenOnConflict(t *testing.T) {
	isolateEnv(t)
	live := writeFile(t, "live.yaml", liveClaims)
	report := filepath.Join(t.TempDir(), "report.json")
	conflicting := strings.Replace(chartClaim, "spec:\n", "spec:\n  volumeName: pv-other\n", 1)
	if r := run(t, conflicting, "-n", "flag-ns", "--live-state", live, "--report", report); r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"conflicts": [`, `"field": "spec.volumeName"`, `"chartValue": "pv-other"`, `"liveValue": "pv-flag"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("report lacks %s:\n%s", want, data)
		}
	}
}

func TestRulesOutputFormats(t *testing.T) {
	tests := []struct {
		format, want string
		code         int
	}{
		{"table", "NAME", 0},
		{"table", "spec.azureFile and 19 more (-o yaml lists them)", 0},
		{"json", `"name": "volume-name"`, 0},
		{"yaml", "- name: volume-name", 0},
		{"xml", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			r := run(t, "", "rules", "-o", tt.format)
			if r.code != tt.code || !strings.Contains(r.stdout, tt.want) {
				t.Errorf("exit %d, stdout:\n%s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
		})
	}
}
