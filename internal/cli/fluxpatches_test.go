package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/pvc-guard/pvc-guard/flux"
)

func TestFluxPatchesOutcomes(t *testing.T) {
	live := writeFile(t, "live.yaml", liveClaims)
	manifest := writeFile(t, "rendered.yaml", chartClaim)
	conflicting := strings.Replace(chartClaim, "spec:\n", "spec:\n  volumeName: pv-other\n", 1)
	pending := writeFile(t, "pending.yaml", "{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: data, namespace: apps}, spec: {accessModes: [ReadWriteOnce], volumeName: pv-old}, status: {phase: Pending}}\n")
	tests := []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantStdout string // substring; "" means stdout must be empty
		wantStderr []string
	}{
		{
			name: "stdin to YAML", stdin: chartClaim, args: []string{"flux-patches", "-n", "flag-ns", "--live-state", live},
			wantStdout: "postRenderers:\n- kustomize:\n    patches:\n    - patch: |\n",
			wantStderr: []string{"1 object(s) checked, 1 live, 1 patch(es)", "warning: with --live-state, whether each pinned volume still belongs to its claim was not checked"},
		},
		{
			name: "a claim that is not Bound is pinned with a warning", stdin: chartClaim, args: []string{"flux-patches", "-n", "apps", "--live-state", pending},
			wantStdout: "volumeName: pv-old", wantStderr: []string{"pvc-guard: warning: claim apps/data is Pending, not Bound: its patch pins only what it has now; run flux-patches again once it is bound"},
		},
		{
			name: "--manifest to JSON", args: []string{"flux-patches", "-n", "env-ns", "--live-state", live, "--manifest", manifest, "-o", "json"},
			wantStdout: `"postRenderers": [`,
		},
		{
			name: "conflict fails with nothing on stdout", stdin: conflicting, args: []string{"flux-patches", "-n", "flag-ns", "--live-state", live},
			wantCode: 1, wantStderr: []string{`chart wants "pv-other", live is "pv-flag"`},
		},
		{
			name: "keep-live pins the live value", stdin: conflicting, args: []string{"flux-patches", "-n", "flag-ns", "--live-state", live, "--on-conflict", "keep-live"},
			wantStdout: "volumeName: pv-flag",
		},
		{
			name: "no live claim, no patches", stdin: chartClaim, args: []string{"flux-patches", "-n", "elsewhere", "--live-state", live},
			wantStdout: "postRenderers: []\n", wantStderr: []string{"1 object(s) checked, 0 live, 0 patch(es)"},
		},
		{
			name: "bad --output", stdin: chartClaim, args: []string{"flux-patches", "-o", "toml"},
			wantCode: 1, wantStderr: []string{`--output must be "yaml" or "json"`},
		},
		{
			name: "--manifest and --release exclude each other", args: []string{"flux-patches", "--manifest", manifest, "--release", "app"},
			wantCode: 1, wantStderr: []string{"none of the others can be"},
		},
		{
			name: "missing --manifest", args: []string{"flux-patches", "--manifest", "/nonexistent.yaml"},
			wantCode: 1, wantStderr: []string{"reading --manifest"},
		},
		{
			name: "--release from an unreachable cluster", args: []string{"flux-patches", "--release", "app", "-n", "apps", "--kubeconfig", writeFile(t, "kc", kubeconfigWithNamespace)},
			wantCode: 1, wantStderr: []string{`reading release "app" in namespace "apps": listing Helm's release secrets: Get "https://127.0.0.1:1/api/v1/namespaces/apps/secrets?labelSelector=name%3Dapp%2Cowner%3Dhelm&timeout=30s": dial tcp 127.0.0.1:1`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			run(t, tt.stdin, tt.args...).expect(t, tt.wantCode, tt.wantStdout, tt.wantStderr...)
		})
	}
}

// TestFluxPatchesFormatsAgree: the YAML and JSON outputs are the same
// block, and it pins the claim of the namespace given.
func TestFluxPatchesFormatsAgree(t *testing.T) {
	isolateEnv(t)
	live := writeFile(t, "live.yaml", liveClaims)
	report := filepath.Join(t.TempDir(), "report.json")
	var blocks [2]flux.Block
	for i, format := range []string{"yaml", "json"} {
		r := run(t, chartClaim, "flux-patches", "-n", "context-ns", "--live-state", live, "-o", format, "--report", report)
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", format, r.code, r.stderr)
		}
		var err error
		if format == "json" {
			err = json.Unmarshal([]byte(r.stdout), &blocks[i])
		} else {
			err = yaml.Unmarshal([]byte(r.stdout), &blocks[i])
		}
		if err != nil {
			t.Fatalf("%s output does not decode: %v\n%s", format, err, r.stdout)
		}
	}
	yamlBlock, _ := json.Marshal(blocks[0])
	jsonBlock, _ := json.Marshal(blocks[1])
	if string(yamlBlock) != string(jsonBlock) {
		t.Errorf("formats differ:\n%s\n%s", yamlBlock, jsonBlock)
	}
	if patch := blocks[1].PostRenderers[0].Kustomize.Patches[0].Patch; !strings.Contains(patch, "volumeName: pv-context") {
		t.Errorf("patch does not pin the live volume:\n%s", patch)
	}
	if data, err := os.ReadFile(report); err != nil || !strings.Contains(string(data), `"objectsLive": 1`) {
		t.Errorf("report not written (%v):\n%s", err, data)
	}
}
