package audit

import (
	"errors"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestJudge(t *testing.T) {
	claims := schema.GroupResource{Resource: "persistentvolumeclaims"}
	tests := []struct {
		name string
		err  error
		want judgement
	}{
		{"accepted", nil, accepted},
		{"immutable field", apierrors.NewInvalid(schema.GroupKind{Kind: "PersistentVolumeClaim"}, "data",
			field.ErrorList{field.Forbidden(field.NewPath("spec"), "spec is immutable after creation")}), refused},
		{"RBAC", apierrors.NewForbidden(claims, "data", errors.New(`User "x" cannot patch resource "persistentvolumeclaims"`)), noRBAC},
		{"webhook denial", apierrors.NewForbidden(claims, "data", errors.New(`admission webhook "policy.example.com" denied the request: no`)), refused},
		{"webhook without dry-run support", apierrors.NewBadRequest(`admission webhook "policy.example.com" does not support dry run`), undecided},
		{"webhook that denies dry runs", apierrors.NewForbidden(claims, "data", errors.New(`admission webhook "policy.example.com" denied the request: dry runs are not supported`)), undecided},
		{"webhook unreachable", apierrors.NewInternalError(errors.New(`failed calling webhook "policy.example.com": connection refused`)), undecided},
		{"server-side apply conflict", apierrors.NewConflict(claims, "data", errors.New("conflict with kubectl")), refused},
		{"timeout", apierrors.NewTimeoutError("slow", 1), undecided},
		{"no answer", errors.New("connection refused"), undecided},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := judge(tt.err); got != tt.want {
				t.Errorf("judge(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestConflictFields(t *testing.T) {
	err := &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: 409, Reason: metav1.StatusReasonConflict,
		Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: metav1.CauseTypeFieldManagerConflict, Field: ".spec.resources.requests.storage"}}}}}
	if got := conflictFields(err); len(got) != 1 || got[0] != "spec.resources.requests.storage" {
		t.Errorf("conflictFields = %v", got)
	}
}

func TestMerge(t *testing.T) {
	refusal := Object{Kind: "PersistentVolumeClaim", Name: "data", Fields: []string{"spec.volumeName"}, Error: "immutable"}
	undecidedObject := Object{Kind: "ConfigMap", Name: "c", Unknown: true, Error: "webhook"}
	tests := []struct {
		name        string
		sent        int
		objects     []Object
		rules       bool
		wantOK      bool
		wantUnknown bool
		wantBasis   string
	}{
		{"nothing to send", 0, nil, false, true, false, Unchanged},
		{"all accepted", 2, nil, false, true, false, DryRun},
		{"one refusal decides", 2, []Object{undecidedObject, refusal}, false, false, false, DryRun},
		{"only undecided", 1, []Object{undecidedObject}, false, false, true, DryRun},
		{"rules", 1, []Object{refusal}, true, false, false, Rules},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := merge(tt.sent, tt.objects, tt.rules, "note")
			if v.OK != tt.wantOK || v.Unknown != tt.wantUnknown || v.Basis != tt.wantBasis {
				t.Errorf("merge = %+v, want ok=%v unknown=%v basis=%s", v, tt.wantOK, tt.wantUnknown, tt.wantBasis)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	ok := Verdict{OK: true}
	fails := Verdict{}
	tests := []struct {
		name  string
		check Check
		want  int
	}{
		{"all safe", Check{Stock: ok, PvcGuard: ok}, ExitSafe},
		{"pvc-guard covers", Check{Stock: fails, PvcGuard: ok}, ExitCovered},
		{"pvc-guard cannot fix it", Check{Stock: fails, PvcGuard: fails}, ExitUncovered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Result{Releases: []Release{{Revisions: []Revision{{Revision: 1, Check: tt.check}}, Drift: []Check{{Stock: ok, PvcGuard: ok}}}}}
			if got := r.ExitCode(); got != tt.want {
				t.Errorf("ExitCode = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPreserved(t *testing.T) {
	manifest := `---
# Source: app/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
---
# Source: app/templates/pvc.yaml
# pvc-guard: spec.volumeName of data = "pv-1" from the live claim (volume-name: not set in the chart)
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  volumeName: pv-1
`
	got, err := preserved(Record{Namespace: "apps", Version: 2, Manifest: manifest})
	if err != nil {
		t.Fatal(err)
	}
	want := Preserved{Kind: "PersistentVolumeClaim", Namespace: "apps", Name: "data", Field: "spec.volumeName",
		Comment: `spec.volumeName of data = "pv-1" from the live claim (volume-name: not set in the chart)`}
	if len(got) != 1 || got[0] != want {
		t.Errorf("preserved = %+v, want %+v", got, want)
	}
}
