package expand

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
)

// enforcePreconditions makes the fake API server refuse, as the real one
// does with 409 Conflict, a claim patch whose resourceVersion and a set
// delete whose UID or resourceVersion precondition is not the stored one.
func enforcePreconditions(client *fake.FakeDynamicClient) {
	client.PrependReactor("patch", "persistentvolumeclaims", func(action k8stesting.Action) (bool, runtime.Object, error) {
		patch := action.(k8stesting.PatchAction)
		var sent struct {
			Metadata struct{ ResourceVersion string } `json:"metadata"`
		}
		if err := json.Unmarshal(patch.GetPatch(), &sent); err != nil {
			return true, nil, err
		}
		stored, err := client.Tracker().Get(claims, patch.GetNamespace(), patch.GetName())
		if err != nil {
			return true, nil, err
		}
		if v := stored.(*unstructured.Unstructured).GetResourceVersion(); sent.Metadata.ResourceVersion != v {
			return true, nil, apierrors.NewConflict(claims.GroupResource(), patch.GetName(), errors.New("the object has been modified"))
		}
		return false, nil, nil
	})
	client.PrependReactor("delete", "statefulsets", func(action k8stesting.Action) (bool, runtime.Object, error) {
		del := action.(k8stesting.DeleteAction)
		stored, err := client.Tracker().Get(statefulSets, del.GetNamespace(), del.GetName())
		if err != nil {
			return true, nil, err
		}
		set, pre := stored.(*unstructured.Unstructured), del.GetDeleteOptions().Preconditions
		if pre == nil || pre.UID == nil || *pre.UID != set.GetUID() || pre.ResourceVersion == nil || *pre.ResourceVersion != set.GetResourceVersion() {
			return true, nil, apierrors.NewConflict(statefulSets.GroupResource(), del.GetName(), errors.New("precondition failed"))
		}
		return false, nil, nil
	})
}

// writer is someone else writing an object just before each of the first
// times writes of ours (verb) reach it: a controller racing pvc-guard.
func writer(t *testing.T, client *fake.FakeDynamicClient, verb string, gvr schema.GroupVersionResource, name string, times int, change func(*unstructured.Unstructured)) {
	client.PrependReactor(verb, gvr.Resource, func(action k8stesting.Action) (bool, runtime.Object, error) {
		if times == 0 || action.(interface{ GetName() string }).GetName() != name {
			return false, nil, nil
		}
		times--
		stored, err := client.Tracker().Get(gvr, "ns", name)
		if err != nil {
			t.Fatal(err)
		}
		o := stored.(*unstructured.Unstructured).DeepCopy()
		change(o)
		version, _ := strconv.Atoi(o.GetResourceVersion())
		o.SetResourceVersion(strconv.Itoa(version + 1))
		if err := client.Tracker().Update(gvr, o, "ns"); err != nil {
			t.Fatal(err)
		}
		return false, nil, nil
	})
}

func setField(path ...string) func(value any) func(*unstructured.Unstructured) {
	return func(value any) func(*unstructured.Unstructured) {
		return func(o *unstructured.Unstructured) {
			if err := unstructured.SetNestedField(o.Object, value, path...); err != nil {
				panic(err)
			}
		}
	}
}

var (
	unused       = setField("status", "conditions")([]any{map[string]any{"type": "Unused", "status": "True"}})
	readyReplica = setField("status", "readyReplicas")(int64(1))
)

// conflicting is a two-claim set whose growth meets the writers of w.
func conflicting(t *testing.T, w func(client *fake.FakeDynamicClient)) (*fake.FakeDynamicClient, *Expander, []*SetPlan) {
	t.Helper()
	client := newClient(t, liveSet, expandable, claim("data-db-0", "Bound", "1Gi", "fast"), claim("data-db-1", "Bound", "1Gi", "fast"),
		pod("db-0", "set-1"), pod("db-1", "set-1"))
	e := &Expander{Client: client, Out: &strings.Builder{}, BackupDir: t.TempDir(), Timeout: time.Second, Interval: 10 * time.Millisecond}
	plans, err := e.Check(t.Context(), target())
	if err != nil {
		t.Fatal(err)
	}
	enforcePreconditions(client)
	w(client)
	client.ClearActions()
	return client, e, plans
}

// TestPrepareRetriesStatusOnlyConflicts: writes by controllers between the
// checks and pvc-guard's writes (status, or the growth itself) are no
// reason to refuse.
func TestPrepareRetriesStatusOnlyConflicts(t *testing.T) {
	tests := []struct {
		name   string
		writer func(t *testing.T, client *fake.FakeDynamicClient)
	}{
		{"pvc-protection flips a claim's Unused condition", func(t *testing.T, client *fake.FakeDynamicClient) {
			writer(t, client, "patch", claims, "data-db-1", 2, unused)
		}},
		{"the statefulset controller writes the set's status", func(t *testing.T, client *fake.FakeDynamicClient) {
			writer(t, client, "delete", statefulSets, "db", 1, readyReplica)
		}},
		{"someone else grew a claim to the target", func(t *testing.T, client *fake.FakeDynamicClient) {
			writer(t, client, "patch", claims, "data-db-0", 1, setField("spec", "resources", "requests", "storage")("2Gi"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, e, plans := conflicting(t, func(client *fake.FakeDynamicClient) { tt.writer(t, client) })
			if err := e.Prepare(t.Context(), plans); err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			if out := e.Out.(*strings.Builder).String(); !strings.Contains(out, "was written meanwhile") {
				t.Errorf("progress does not tell the retry:\n%s", out)
			}
			assertRequest(t, client, "data-db-0", "2Gi")
			assertRequest(t, client, "data-db-1", "2Gi")
			if _, err := client.Resource(statefulSets).Namespace("ns").Get(t.Context(), "db", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("the set was not deleted: %v", err)
			}
			for _, a := range client.Actions() {
				if d, ok := a.(k8stesting.DeleteAction); ok && (d.GetDeleteOptions().Preconditions == nil || *d.GetDeleteOptions().Preconditions.UID != "set-1") {
					t.Errorf("a delete without the UID precondition: %v", a)
				}
			}
		})
	}
}

// TestPrepareRefusesRealChanges: a conflict whose cause is a change to what
// the checks established refuses, naming the object and field, and writes
// nothing more.
func TestPrepareRefusesRealChanges(t *testing.T) {
	tests := []struct {
		name   string
		writer func(t *testing.T, client *fake.FakeDynamicClient)
		want   []string
		sizes  [2]string // of data-db-0 and data-db-1 afterwards: only claims grown before the change grew
	}{
		{"a claim bound to another volume", func(t *testing.T, client *fake.FakeDynamicClient) {
			writer(t, client, "patch", claims, "data-db-0", 1, setField("spec", "volumeName")("pv-other"))
		}, []string{"claim ns/data-db-0", `spec.volumeName (was "pv-data-db-0", now "pv-other")`}, [2]string{"1Gi", "1Gi"}},
		{"a claim grown by someone else beyond the target", func(t *testing.T, client *fake.FakeDynamicClient) {
			writer(t, client, "patch", claims, "data-db-1", 1, setField("spec", "resources", "requests", "storage")("5Gi"))
		}, []string{"claim ns/data-db-1", `spec.resources.requests.storage (was "1Gi", now "5Gi")`}, [2]string{"2Gi", "5Gi"}},
		{"a claim no longer bound", func(t *testing.T, client *fake.FakeDynamicClient) {
			writer(t, client, "patch", claims, "data-db-0", 1, setField("status", "phase")("Lost"))
		}, []string{"claim ns/data-db-0", "it is Lost, not Bound"}, [2]string{"1Gi", "1Gi"}},
		{"a claim replaced", func(t *testing.T, client *fake.FakeDynamicClient) {
			writer(t, client, "patch", claims, "data-db-0", 1, setField("metadata", "uid")("uid-new"))
		}, []string{"claim ns/data-db-0", "replaced since the checks (UID uid-data-db-0, now uid-new)"}, [2]string{"1Gi", "1Gi"}},
		{"the set scaled", func(t *testing.T, client *fake.FakeDynamicClient) {
			writer(t, client, "delete", statefulSets, "db", 1, setField("spec", "replicas")(int64(3)))
		}, []string{"deleting StatefulSet ns/db", "spec.replicas (was 2, now 3)", "nothing was deleted"}, [2]string{"2Gi", "2Gi"}},
		{"the set relabelled", func(t *testing.T, client *fake.FakeDynamicClient) {
			writer(t, client, "delete", statefulSets, "db", 1, setField("metadata", "labels", "tier")("gold"))
		}, []string{"deleting StatefulSet ns/db", `metadata.labels.tier (was absent, now "gold")`}, [2]string{"2Gi", "2Gi"}},
		{"the set replaced", func(t *testing.T, client *fake.FakeDynamicClient) {
			writer(t, client, "delete", statefulSets, "db", 1, setField("metadata", "uid")("set-9"))
		}, []string{"deleting StatefulSet ns/db", "replaced since the checks (UID set-1, now set-9)"}, [2]string{"2Gi", "2Gi"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, e, plans := conflicting(t, func(client *fake.FakeDynamicClient) { tt.writer(t, client) })
			err := e.Prepare(t.Context(), plans)
			for _, want := range tt.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("Prepare: %v, want %q", err, want)
				}
			}
			if _, err := client.Resource(statefulSets).Namespace("ns").Get(t.Context(), "db", metav1.GetOptions{}); err != nil {
				t.Errorf("the set: %v", err)
			}
			assertRequest(t, client, "data-db-0", tt.sizes[0])
			assertRequest(t, client, "data-db-1", tt.sizes[1])
		})
	}
}

// TestPrepareGivesUpOnConflicts: a claim whose status changes before each
// write is given up after conflictRetry.Steps writes, with a clear error.
func TestPrepareGivesUpOnConflicts(t *testing.T) {
	client, e, plans := conflicting(t, func(client *fake.FakeDynamicClient) {
		writer(t, client, "patch", claims, "data-db-0", 100, unused)
	})
	err := e.Prepare(t.Context(), plans)
	if err == nil || !strings.Contains(err.Error(), "claim ns/data-db-0") || !strings.Contains(err.Error(), "5 writes in a row met a conflict") ||
		!apierrors.IsConflict(err) {
		t.Fatalf("Prepare: %v, want it to give up after 5 conflicts", err)
	}
	patches := 0
	for _, a := range client.Actions() {
		if a.GetVerb() == "patch" {
			patches++
		}
	}
	if patches != conflictRetry.Steps {
		t.Errorf("%d patches, want %d", patches, conflictRetry.Steps)
	}
	assertRequest(t, client, "data-db-0", "1Gi")
}
