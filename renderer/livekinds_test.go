package renderer_test

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	apiversion "k8s.io/apimachinery/pkg/version"

	"github.com/pvc-guard/pvc-guard/live"
	"github.com/pvc-guard/pvc-guard/renderer"
)

const chartSet = `---
# Source: db/templates/statefulset.yaml
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db-v2
  revisionHistoryLimit: 3
  selector: {matchLabels: {app: db}}
  template: {metadata: {labels: {app: db}}}
`

const liveSet = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: apps}
spec:
  serviceName: db
  revisionHistoryLimit: 10
  selector: {matchLabels: {app: db}}
  template: {metadata: {labels: {app: db}}}
`

// clusterLike is a snapshot that answers as an API server would: with a
// version, and Forbidden for the kinds the caller may not read.
type clusterLike struct {
	*live.Snapshot
	version   string
	forbidden renderer.GroupKind
	asked     int // version requests
}

func (c *clusterLike) Objects(ctx context.Context, kind renderer.GroupKind, keys []renderer.ObjectKey) (map[renderer.ObjectKey]*unstructured.Unstructured, error) {
	if kind == c.forbidden {
		return nil, apierrors.NewForbidden(schema.GroupResource{Group: kind.Group, Resource: "statefulsets"}, keys[0].Name, nil)
	}
	return c.Snapshot.Objects(ctx, kind, keys)
}

func (c *clusterLike) ServerVersion(context.Context) (*apiversion.Info, error) {
	c.asked++
	return &apiversion.Info{GitVersion: c.version}, nil
}

var statefulSets = renderer.GroupKind{Group: "apps", Kind: "StatefulSet"}

func TestServerVersionIsAskedOnlyWhenRulesDependOnIt(t *testing.T) {
	tests := []struct {
		name, stream, version string
		wantAsked             int
		wantConflicts         []string
		wantWarning           string
	}{
		{name: "a 1.32 server refuses revisionHistoryLimit", stream: chartSet, version: "v1.32.4", wantAsked: 1,
			wantConflicts: []string{"spec.serviceName", "spec.revisionHistoryLimit"}},
		{name: "a 1.34 server lets it change", stream: chartSet, version: "v1.34.12", wantAsked: 1,
			wantConflicts: []string{"spec.serviceName"}},
		{name: "a server older than the rules know", stream: chartSet, version: "v1.29.0", wantAsked: 1,
			wantConflicts: []string{"spec.serviceName", "spec.revisionHistoryLimit"}, wantWarning: "older than the storage rules know (1.31 and later)"},
		{name: "no StatefulSet, no question", stream: chartClaim, version: "v1.34.12", wantAsked: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := &clusterLike{Snapshot: snapshot(t, liveSet+"---\n"+boundClaim), version: tt.version}
			_, report, _ := (&renderer.Renderer{Live: state, Namespace: "apps"}).Render(context.Background(), []byte(tt.stream))
			if state.asked != tt.wantAsked {
				t.Errorf("asked for the version %d times, want %d", state.asked, tt.wantAsked)
			}
			var got []string
			for _, c := range report.Conflicts {
				got = append(got, c.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.wantConflicts, ",") {
				t.Errorf("conflicts on %v, want %v", got, tt.wantConflicts)
			}
			if warnings := strings.Join(report.Warnings, "\n"); !strings.Contains(warnings, tt.wantWarning) || (tt.wantWarning == "") != (warnings == "") {
				t.Errorf("warnings %q, want %q", warnings, tt.wantWarning)
			}
		})
	}
}

func TestAForbiddenKindSkipsItsRulesWithAWarning(t *testing.T) {
	state := &clusterLike{Snapshot: snapshot(t, liveSet+"---\n"+boundClaim), version: "v1.34.12", forbidden: statefulSets}
	out, report, err := (&renderer.Renderer{Live: state, Namespace: "apps"}).Render(context.Background(), []byte(chartSet+chartClaim))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "serviceName: db-v2") || !strings.Contains(string(out), "volumeName: pv-data") {
		t.Errorf("want the StatefulSet untouched and the claim rewritten:\n%s", out)
	}
	want := `skipped the StatefulSet.apps rules: statefulsets.apps "db" is forbidden`
	if len(report.Warnings) != 1 || !strings.Contains(report.Warnings[0], want) || !strings.Contains(report.Summary(), "pvc-guard: warning: "+want) {
		t.Errorf("warnings %q, want one containing %q, also in the summary", report.Warnings, want)
	}
	state.forbidden = renderer.GroupKind{Kind: "PersistentVolumeClaim"}
	if _, _, err := (&renderer.Renderer{Live: state, Namespace: "apps"}).Render(context.Background(), []byte(chartClaim)); !apierrors.IsForbidden(err) {
		t.Errorf("claims that may not be read: got %v, want the Forbidden error", err)
	}
}
