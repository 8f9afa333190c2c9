package rollbackcmd

import (
	"bytes"
	"testing"

	"github.com/pvc-guard/pvc-guard/audit"
	"github.com/pvc-guard/pvc-guard/internal/golden"
)

func TestAuditTable(t *testing.T) {
	ok := audit.Verdict{OK: true, Basis: audit.DryRun}
	result := &audit.Result{Releases: []audit.Release{
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
		{Name: "empty", Namespace: "apps", Revision: 1, Drift: []audit.Check{{ApplyMethod: "client-side", Stock: ok, PvcGuard: ok}}},
	}}
	var out bytes.Buffer
	if err := writeTable(&out, result); err != nil {
		t.Fatal(err)
	}
	golden.Compare(t, "testdata/audit-table.txt", out.Bytes())
}
