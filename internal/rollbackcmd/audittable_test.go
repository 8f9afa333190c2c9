package rollbackcmd

import (
	"bytes"
	"testing"

	"github.com/pvc-guard/pvc-guard/audit"
	"github.com/pvc-guard/pvc-guard/internal/cli"
	"github.com/pvc-guard/pvc-guard/internal/testutil/golden"
)

// auditResult has a verdict of every kind.
func auditResult() *audit.Result {
	ok := audit.Verdict{OK: true, Basis: audit.DryRun}
	return &audit.Result{Releases: []audit.Release{
		{Name: "app", Namespace: "apps", Revision: 3,
			Revisions: []audit.Revision{
				{Revision: 2, Check: audit.Check{ApplyMethod: "client-side", Stock: ok, PvcGuard: ok}},
				{Revision: 1, Check: audit.Check{ApplyMethod: "client-side",
					Stock: audit.Verdict{Fields: []string{"spec.volumeName"}, Basis: audit.DryRun,
						Error: `PersistentVolumeClaim app-data: PersistentVolumeClaim "app-data" is invalid: spec: Forbidden: spec is immutable after creation`},
					PvcGuard: ok}},
			},
			Drift: []audit.Check{
				{ApplyMethod: "client-side", Stock: audit.Verdict{OK: true, Basis: audit.Unchanged}, PvcGuard: audit.Verdict{OK: true, Basis: audit.Unchanged}},
				{ApplyMethod: "server-side", Stock: audit.Verdict{Unknown: true, Basis: audit.DryRun, Error: "ConfigMap c: webhook does not support dry run"},
					PvcGuard: audit.Verdict{Basis: audit.Rules, Note: "no RBAC", Fields: []string{"spec.storageClassName"}, Error: "conflict"}},
			},
			Preserved: []audit.Preserved{{Kind: "PersistentVolumeClaim", Namespace: "apps", Name: "app-data", Field: "spec.volumeName"}},
		},
		{Name: "empty", Namespace: "apps", Revision: 1, Revisions: []audit.Revision{}, Preserved: []audit.Preserved{}, Drift: []audit.Check{{ApplyMethod: "client-side", Stock: ok, PvcGuard: ok}}},
	}}
}

// TestAuditOutput holds each output format to its golden file: the JSON
// and YAML shapes are the command's interface.
func TestAuditOutput(t *testing.T) {
	for _, format := range []string{"table", "json", "yaml"} {
		t.Run(format, func(t *testing.T) {
			var out bytes.Buffer
			o := &AuditOptions{Streams: cli.Streams{Out: &out}, Output: format}
			if err := o.print(auditResult()); err != nil {
				t.Fatal(err)
			}
			golden.Compare(t, "testdata/audit."+format, out.Bytes())
		})
	}
}
