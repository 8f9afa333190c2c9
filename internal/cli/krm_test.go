package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// resourceListOf wraps chartClaim's claim in a ResourceList with the given
// functionConfig data (none when empty), as kustomize and kpt send it.
func resourceListOf(configData string) string {
	list := `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: PersistentVolumeClaim
  metadata:
    name: data
  spec:
    accessModes: [ReadWriteOnce]
    resources:
      requests:
        storage: 1Gi
`
	if configData != "" {
		list += "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: pvc-guard}\n  data:\n" + configData
	}
	return list
}

// TestFunctionMode: a ResourceList on stdin turns pvc-guard into a KRM
// function. The command line gives defaults that the functionConfig
// overrides, and stdout carries the ResourceList and nothing else, also
// when the function fails.
func TestFunctionMode(t *testing.T) {
	live := writeFile(t, "live.yaml", liveClaims)
	conflicting := strings.Replace(resourceListOf(""), "  spec:\n", "  spec:\n    volumeName: pv-other\n", 1)
	tests := []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr string
	}{
		{
			name: "flags as defaults", stdin: resourceListOf(""), args: []string{"-n", "flag-ns", "--live-state", live},
			wantStdout: []string{"kind: ResourceList", "volumeName: pv-flag", "severity: info"}, wantStderr: "1 object(s) checked, 1 live, 2 field(s) preserved",
		},
		{
			name: "functionConfig overrides the flags", stdin: resourceListOf("    namespace: env-ns\n    liveState: " + live + "\n"),
			args:       []string{"-n", "flag-ns", "--live-state", "/nonexistent/live.yaml"},
			wantStdout: []string{"volumeName: pv-env"}, wantStderr: "env-ns/data spec.volumeName",
		},
		{
			name: "render subcommand too", stdin: resourceListOf(""), args: []string{"render", "-n", "context-ns", "--live-state", live},
			wantStdout: []string{"volumeName: pv-context"},
		},
		{
			name: "conflict is an error result and exit 1", stdin: conflicting, args: []string{"-n", "flag-ns", "--live-state", live},
			wantCode: 1, wantStdout: []string{"kind: ResourceList", "severity: error", "volumeName: pv-other"}, wantStderr: `Error: [error] v1/PersistentVolumeClaim/flag-ns/data spec.volumeName: chart wants "pv-other"`,
		},
		{
			name: "keep-live from the functionConfig", stdin: strings.Replace(conflicting, "items:", "functionConfig: {kind: ConfigMap, data: {onConflict: keep-live}}\nitems:", 1),
			args:       []string{"-n", "flag-ns", "--live-state", live},
			wantStdout: []string{"volumeName: pv-flag", "severity: warning"},
		},
		{
			name: "unreadable ResourceList", stdin: "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [\n",
			wantCode: 1, wantStdout: []string{"items: []", "severity: error", "invalid ResourceList"}, wantStderr: "invalid ResourceList",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			r := run(t, tt.stdin, tt.args...)
			if r.code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr: %s", r.code, tt.wantCode, r.stderr)
			}
			if !strings.HasPrefix(r.stdout, "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n") {
				t.Errorf("stdout is not a ResourceList alone:\n%s", r.stdout)
			}
			for _, want := range tt.wantStdout {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, r.stderr)
			}
		})
	}
}

func TestFunctionModeWritesReport(t *testing.T) {
	isolateEnv(t)
	report := filepath.Join(t.TempDir(), "report.json")
	live := writeFile(t, "live.yaml", liveClaims)
	if r := run(t, resourceListOf(""), "-n", "flag-ns", "--live-state", live, "--report", report); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"liveValue": "pv-flag"`) {
		t.Errorf("report lacks the rewrite:\n%s", data)
	}
}
