package flux_test

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/pvc-guard/pvc-guard/flux"
	"github.com/pvc-guard/pvc-guard/live"
)

// liveClaim is a claim in namespace apps with a uid, a phase and, unless
// volume is "", a volumeName.
func liveClaim(name, uid, phase, volume string) *unstructured.Unstructured {
	spec := map[string]any{"accessModes": []any{"ReadWriteOnce"}, "resources": map[string]any{"requests": map[string]any{"storage": "1Gi"}}}
	if volume != "" {
		spec["volumeName"] = volume
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "PersistentVolumeClaim",
		"metadata": map[string]any{"name": name, "namespace": "apps", "uid": uid},
		"spec":     spec, "status": map[string]any{"phase": phase},
	}}
}

// apiServer serves objects through client-go's fake dynamic client.
func apiServer(objects ...runtime.Object) *fake.FakeDynamicClient {
	lists := map[schema.GroupVersionResource]string{
		{Version: "v1", Resource: "persistentvolumeclaims"}: "PersistentVolumeClaimList",
		{Version: "v1", Resource: "persistentvolumes"}:      "PersistentVolumeList",
	}
	return fake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), lists, objects...)
}

// volume is a PersistentVolume whose claimRef (nil: none) names a claim.
func volume(name string, claimRef map[string]any) *unstructured.Unstructured {
	spec := map[string]any{"capacity": map[string]any{"storage": "1Gi"}}
	if claimRef != nil {
		spec["claimRef"] = claimRef
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "PersistentVolume", "metadata": map[string]any{"name": name}, "spec": spec,
	}}
}

func ref(namespace, name, uid string) map[string]any {
	return map[string]any{"kind": "PersistentVolumeClaim", "namespace": namespace, "name": name, "uid": uid}
}

const stream = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n"

func TestPatchesWarnAboutPinsThatWillNotHold(t *testing.T) {
	tests := []struct {
		name      string
		claim     *unstructured.Unstructured
		volumes   []runtime.Object
		reply     error // the API server's answer to any request for volumes
		noVolumes bool  // CheckVolumes off, as with --live-state
		want      []string
		wantErr   string
	}{
		{name: "bound to its own volume", claim: liveClaim("data", "u1", "Bound", "pv-1"), volumes: []runtime.Object{volume("pv-1", ref("apps", "data", "u1"))}},
		{name: "volume reserved by name, no uid yet", claim: liveClaim("data", "u1", "Bound", "pv-1"), volumes: []runtime.Object{volume("pv-1", ref("apps", "data", ""))}},
		{name: "volume without claimRef binds the claim naming it", claim: liveClaim("data", "u1", "Pending", "pv-1"), volumes: []runtime.Object{volume("pv-1", nil)},
			want: []string{"claim apps/data is Pending, not Bound: its patch pins only what it has now"}},
		{name: "pending without a volume", claim: liveClaim("data", "u1", "Pending", ""),
			want: []string{"claim apps/data is Pending, not Bound"}},
		{name: "re-created claim pinned to its old volume", claim: liveClaim("data", "u2", "Pending", "pv-1"), volumes: []runtime.Object{volume("pv-1", ref("apps", "data", "u1"))},
			want: []string{"claim apps/data is Pending, not Bound", "claim apps/data (uid u2) is pinned to volume pv-1, whose claimRef names uid u1: the claim was deleted and re-created"}},
		{name: "volume of another claim", claim: liveClaim("data", "u1", "Bound", "pv-1"), volumes: []runtime.Object{volume("pv-1", ref("apps", "logs", "u9"))},
			want: []string{"claim apps/data is pinned to volume pv-1, whose claimRef names claim apps/logs"}},
		{name: "volume gone", claim: liveClaim("data", "u1", "Lost", "pv-1"),
			want: []string{"claim apps/data is Lost, not Bound", "claim apps/data is pinned to volume pv-1, which does not exist"}},
		{name: "RBAC forbids volumes: the check is skipped", claim: liveClaim("data", "u1", "Bound", "pv-1"),
			reply: apierrors.NewForbidden(schema.GroupResource{Resource: "persistentvolumes"}, "pv-1", nil),
			want:  []string{"RBAC forbids get persistentvolumes, so whether each pinned volume still belongs to its claim was not checked"}},
		{name: "volumes not checked: phases only", claim: liveClaim("data", "u2", "Pending", "pv-1"), noVolumes: true,
			want: []string{"claim apps/data is Pending, not Bound"}},
		{name: "any other error fails", claim: liveClaim("data", "u1", "Bound", "pv-1"), reply: apierrors.NewInternalError(context.Canceled),
			wantErr: "checking the pinned claims' volumes: cannot get persistentvolumes cluster-wide"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := apiServer(append(tt.volumes, tt.claim)...)
			if tt.reply != nil {
				client.PrependReactor("*", "persistentvolumes", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, tt.reply
				})
			}
			p := &flux.Patcher{Live: &live.Cluster{Client: client}, Namespace: "apps", CheckVolumes: !tt.noVolumes}
			result, err := p.Patches(context.Background(), []byte(stream))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(result.Block.PostRenderers) != 1 {
				t.Errorf("the claim is not pinned: %+v", result.Block)
			}
			if len(result.Warnings) != len(tt.want) {
				t.Fatalf("warnings:\n%s\nwant %d", strings.Join(result.Warnings, "\n"), len(tt.want))
			}
			for i, want := range tt.want {
				if !strings.Contains(result.Warnings[i], want) {
					t.Errorf("warning %d = %q, want it to say %q", i, result.Warnings[i], want)
				}
			}
		})
	}
}

// TestPatchesCheckSeveralVolumes: with several pinned claims, the
// refusal of their volumes is one warning, not one per claim, and RBAC
// that grants get but not list still checks them all.
func TestPatchesCheckSeveralVolumes(t *testing.T) {
	claims := []runtime.Object{
		liveClaim("data", "u1", "Bound", "pv-1"), liveClaim("logs", "u2", "Pending", "pv-2"),
		volume("pv-1", ref("apps", "data", "u1")), volume("pv-2", ref("apps", "logs", "u0")),
	}
	twoClaims := []byte(stream + "---\n" + strings.Replace(stream, "name: data", "name: logs", 1))
	tests := []struct {
		name   string
		refuse string // the verb on volumes RBAC refuses; "*" for all
		want   []string
	}{
		{name: "list refused, get granted", refuse: "list", want: []string{
			"claim apps/logs is Pending, not Bound", "claim apps/logs (uid u2) is pinned to volume pv-2, whose claimRef names uid u0"}},
		{name: "all refused", refuse: "*", want: []string{
			"claim apps/logs is Pending, not Bound", "RBAC forbids get persistentvolumes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := apiServer(claims...)
			client.PrependReactor(tt.refuse, "persistentvolumes", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "persistentvolumes"}, "", nil)
			})
			p := &flux.Patcher{Live: &live.Cluster{Client: client}, Namespace: "apps", CheckVolumes: true}
			result, err := p.Patches(context.Background(), twoClaims)
			if err != nil {
				t.Fatal(err)
			}
			if len(result.Warnings) != len(tt.want) {
				t.Fatalf("warnings:\n%s\nwant %d", strings.Join(result.Warnings, "\n"), len(tt.want))
			}
			for i, want := range tt.want {
				if !strings.Contains(result.Warnings[i], want) {
					t.Errorf("warning %d = %q, want it to say %q", i, result.Warnings[i], want)
				}
			}
		})
	}
}

// TestPatchesWarnAboutVolumesThatAreNotBound: a chart-rendered volume is
// pinned as it is now, so one the binder has not bound yet gets its claimRef
// later, and a Released one keeps a claimRef that names a claim that is
// gone. A StatefulSet's pins copy nothing the cluster fills in later: it
// gets no warning.
func TestPatchesWarnAboutVolumesThatAreNotBound(t *testing.T) {
	const chart = "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: pv-db\nspec:\n  capacity:\n    storage: 1Gi\n  hostPath:\n    path: /srv/db\n" +
		"---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  serviceName: db\n  selector:\n    matchLabels:\n      app: db\n"
	const liveSet = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: apps}\nspec:\n  serviceName: db\n  podManagementPolicy: OrderedReady\n  selector:\n    matchLabels: {app: db}\n"
	tests := []struct {
		name, status, claimRef string
		want                   []string
	}{
		{name: "bound", status: "Bound", claimRef: "{kind: PersistentVolumeClaim, namespace: apps, name: data-db-0, uid: u1}"},
		{name: "available", status: "Available", want: []string{"volume pv-db is Available, not Bound: its patch pins only what it has now"}},
		{name: "released", status: "Released", claimRef: "{kind: PersistentVolumeClaim, namespace: apps, name: data-db-0, uid: u1}",
			want: []string{"volume pv-db is Released: its claim apps/data-db-0 is gone, and the pinned claimRef keeps the volume from binding any other claim"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			volume := "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv-db}\nspec:\n  capacity: {storage: 1Gi}\n  hostPath: {path: /srv/db}\n"
			if tt.claimRef != "" {
				volume += "  claimRef: " + tt.claimRef + "\n"
			}
			state := live.NewSnapshot()
			if err := state.Add([]byte(volume + "status: {phase: " + tt.status + "}\n---\n" + liveSet)); err != nil {
				t.Fatal(err)
			}
			result, err := (&flux.Patcher{Live: state, Namespace: "apps"}).Patches(context.Background(), []byte(chart))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(result.Block.PostRenderers[0].Kustomize.Patches); got != 2 {
				t.Errorf("%d patches, want one for the volume and one for the set", got)
			}
			if len(result.Warnings) != len(tt.want) {
				t.Fatalf("warnings:\n%s\nwant %d", strings.Join(result.Warnings, "\n"), len(tt.want))
			}
			for i, want := range tt.want {
				if !strings.Contains(result.Warnings[i], want) {
					t.Errorf("warning %d = %q, want it to say %q", i, result.Warnings[i], want)
				}
			}
		})
	}
}
