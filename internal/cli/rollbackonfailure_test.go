package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeHelm is a helm that reports version v3.22.0, prints the history in
// $STATE/history.json (else "release: not found"), logs upgrade, install
// and uninstall to $STATE/helm.log, and fails every upgrade and install,
// recording $STATE/after.json as the new history when it exists.
const fakeHelm = `#!/bin/sh
case "$1" in
version) echo v3.22.0 ;;
history)
	if [ -f "$STATE/history.json" ]; then cat "$STATE/history.json"; exit 0; fi
	echo "Error: release: not found" >&2; exit 1 ;;
upgrade|install)
	echo "$*" >> "$STATE/helm.log"
	if [ -f "$STATE/after.json" ]; then cp "$STATE/after.json" "$STATE/history.json"; fi
	echo "Error: UPGRADE FAILED: context deadline exceeded" >&2; exit 1 ;;
uninstall) echo "$*" >> "$STATE/helm.log" ;;
esac
`

// TestRollbackOnFailure: pvc-guard's --atomic acts only on a failed
// revision this run recorded, rolls back to Helm's choice with the
// upgrade's options through pvc-guard rollback, and uninstalls a failed
// install; Helm never sees --atomic and always waits.
func TestRollbackOnFailure(t *testing.T) {
	tests := []struct {
		name          string
		args          []string
		before, after string // history JSON; "" for none
		wantHelm      string // the log of Helm's runs
		wantRollback  string // the fake pvc-guard-rollback's arguments; "" for not run
		rollbackCode  int    // its exit code
		wantErr       string
	}{
		{
			name:   "an upgrade that recorded a failed revision",
			args:   []string{"upgrade", "app", "./chart", "-n", "apps", "--atomic", "--timeout", "5s", "--no-hooks", "--force"},
			before: `[{"revision":1,"status":"superseded"},{"revision":2,"status":"deployed"}]`,
			after:  `[{"revision":1,"status":"superseded"},{"revision":2,"status":"deployed"},{"revision":3,"status":"failed"}]`,
			wantHelm: "upgrade app ./chart -n apps --timeout 5s --no-hooks --force --post-renderer PVC_GUARD --post-renderer-args=render " +
				"--post-renderer-args=--report=REPORT --post-renderer-args=--namespace=apps --wait\n",
			wantRollback: "app 2 --wait=legacy --namespace=apps --no-hooks --force-replace --timeout=5s",
			wantErr:      "release app failed, and has been rolled back to revision 2 by pvc-guard rollback due to --atomic being set: helm upgrade: exit status 1",
		},
		{
			name:   "the rollback fails too: the release's state and what to run",
			args:   []string{"upgrade", "app", "./chart", "--atomic", "--kube-token", "secret"},
			before: `[{"revision":1,"status":"deployed"}]`,
			after:  `[{"revision":1,"status":"deployed"},{"revision":2,"status":"failed","description":"Upgrade \"app\" failed"}]`,
			wantHelm: "upgrade app ./chart --kube-token secret --post-renderer PVC_GUARD --post-renderer-args=render " +
				"--post-renderer-args=--report=REPORT --post-renderer-args=--kube-token=secret --wait\n",
			wantRollback: "app 1 --wait=legacy --kube-token=secret",
			rollbackCode: 3,
			wantErr: "revision 2 of app failed, and rolling back to revision 1 with pvc-guard rollback failed too: pvc-guard rollback exited with status 3 (its message is above).\n" +
				`The release is not rolled back: its latest revision is 2, failed (Upgrade "app" failed); the cluster holds what revision 2 applied before it failed. ` +
				"Fix the cause, then run: pvc-guard rollback app 1 --kube-token=$TOKEN",
		},
		{
			name:   "Helm refused to start: no new revision, nothing to undo",
			args:   []string{"upgrade", "app", "./chart", "--rollback-on-failure"},
			before: `[{"revision":1,"status":"deployed"},{"revision":2,"status":"pending-upgrade"}]`,
			wantHelm: "upgrade app ./chart --post-renderer PVC_GUARD --post-renderer-args=render " +
				"--post-renderer-args=--report=REPORT --wait\n",
			wantErr: "Helm recorded no failed revision of app, so there is nothing to roll back",
		},
		{
			name:  "a failed install is uninstalled",
			args:  []string{"upgrade", "--install", "app", "./chart", "--atomic", "--kube-context=prod"},
			after: `[{"revision":1,"status":"failed"}]`,
			wantHelm: "upgrade --install app ./chart --kube-context=prod --post-renderer PVC_GUARD --post-renderer-args=render " +
				"--post-renderer-args=--report=REPORT --post-renderer-args=--kube-context=prod --wait\nuninstall app --kube-context=prod\n",
			wantErr: "release app failed, and has been uninstalled due to --atomic being set",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			state, bin := t.TempDir(), t.TempDir()
			helm := writeScript(t, filepath.Join(bin, "helm"), fakeHelm)
			fakeRollback(t, bin, tt.rollbackCode)
			t.Setenv("PATH", bin+string(os.PathListSeparator)+"/usr/bin:/bin") // the fakes first, then sh's tools
			t.Setenv("STATE", state)
			t.Setenv("HELM_BIN", helm)
			for file, content := range map[string]string{"history.json": tt.before, "after.json": tt.after} {
				if content != "" {
					writeScript(t, filepath.Join(state, file), content)
				}
			}
			r := run(t, "", tt.args...)
			if r.code != 1 || !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and %q", r.code, r.stderr, tt.wantErr)
			}
			log, _ := os.ReadFile(filepath.Join(state, "helm.log"))
			self, _ := os.Executable()
			got := strings.ReplaceAll(string(log), self, "PVC_GUARD")
			if i := strings.Index(got, "--report="); i >= 0 {
				end := i + strings.Index(got[i:], " ")
				got = got[:i] + "--report=REPORT" + got[end:]
			}
			if got != tt.wantHelm {
				t.Errorf("Helm ran:\n%s\nwant:\n%s", got, tt.wantHelm)
			}
			ranRollback := strings.Contains(r.stdout, "ran ")
			if tt.wantRollback == "" && ranRollback {
				t.Errorf("pvc-guard rollback ran: %s", r.stdout)
			}
			if tt.wantRollback != "" && !strings.Contains(r.stdout, "with: "+tt.wantRollback+"\n") {
				t.Errorf("pvc-guard rollback: %s\nwant its arguments %q", r.stdout, tt.wantRollback)
			}
		})
	}
}

// writeScript writes an executable file.
func writeScript(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}
