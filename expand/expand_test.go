package expand

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	"github.com/pvc-guard/pvc-guard/renderer"
)

func obj(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

const liveSet = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: ns, uid: set-1, resourceVersion: "7", labels: {app: db}}
spec:
  replicas: 2
  selector: {matchLabels: {app: db}}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {resources: {requests: {storage: 1Gi}}}
status: {replicas: 2}
`

func claim(name, phase, size, class string) string {
	return `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: ` + name + `, namespace: ns, uid: uid-` + name + `, resourceVersion: "3"}
spec: {storageClassName: ` + class + `, volumeName: pv-` + name + `, resources: {requests: {storage: ` + size + `}}}
status: {phase: ` + phase + `}
`
}

func pod(name, owner string) string {
	return `apiVersion: v1
kind: Pod
metadata:
  name: ` + name + `
  namespace: ns
  uid: pod-` + name + `
  labels: {app: db}
  ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: ` + owner + `, controller: true}]
`
}

const expandable = `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fast}
allowVolumeExpansion: true
`

const fixed = `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fixed}
`

func newClient(t *testing.T, docs ...string) *fake.FakeDynamicClient {
	t.Helper()
	var objects []runtime.Object
	for _, doc := range docs {
		objects = append(objects, obj(t, doc))
	}
	return fake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		statefulSets: "StatefulSetList", claims: "PersistentVolumeClaimList", storageClasses: "StorageClassList", pods: "PodList",
	}, objects...)
}

func target() []*Target {
	return []*Target{{Namespace: "ns", Name: "db", Templates: []TemplateGrowth{{Template: "data", From: mustQ("1Gi"), To: mustQ("2Gi")}}}}
}

func TestTargets(t *testing.T) {
	conflicts := []renderer.Finding{
		{Kind: "StatefulSet", Namespace: "ns", Name: "db", Field: "spec.volumeClaimTemplates[metadata.name=data].spec.resources.requests.storage", Chart: "2Gi", Live: "1Gi"},
		{Kind: "StatefulSet", Namespace: "ns", Name: "db", Field: "spec.volumeClaimTemplates[metadata.name=logs].spec.resources.requests.storage", Chart: "3Gi", Live: "1Gi"},
		{Kind: "StatefulSet", Namespace: "ns", Name: "db", Field: "spec.serviceName", Chart: "a", Live: "b"},
		{Kind: "PersistentVolumeClaim", Namespace: "ns", Name: "x", Field: "spec.resources.requests.storage", Chart: "2Gi", Live: "1Gi"},
	}
	targets, rest, err := Targets(conflicts)
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 1 || len(targets[0].Templates) != 2 || targets[0].Templates[1].Template != "logs" || targets[0].Templates[1].To.String() != "3Gi" {
		t.Errorf("targets %+v, want db with data and logs", targets)
	}
	if len(rest) != 2 || rest[0].Field != "spec.serviceName" {
		t.Errorf("rest %+v, want serviceName and the claim", rest)
	}
	for _, bad := range []renderer.Finding{
		{Kind: "StatefulSet", Field: conflicts[0].Field, Chart: "1Gi", Live: "2Gi"},
		{Kind: "StatefulSet", Field: conflicts[0].Field, Chart: "lots", Live: "2Gi"},
	} {
		if _, _, err := Targets([]renderer.Finding{bad}); err == nil {
			t.Errorf("Targets(%+v) accepted it", bad)
		}
	}
}

func TestCheck(t *testing.T) {
	ok := []string{liveSet, expandable, claim("data-db-0", "Bound", "1Gi", "fast"), claim("data-db-1", "Bound", "1Gi", "fast"),
		claim("data-db-5", "Bound", "4Gi", "fixed"), claim("data-dbx-0", "Pending", "1Gi", "fast"), pod("db-0", "set-1"), pod("db-1", "set-1"), pod("other", "x")}
	tests := []struct {
		name    string
		objects []string
		want    string // error; empty: the plan below
	}{
		{"ok", ok, ""},
		{"retention deletes claims", []string{strings.Replace(liveSet, "replicas: 2\n", "replicas: 2\n  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete}\n", 1)},
			"whenDeleted is Delete"},
		{"unbound claim beyond replicas", []string{liveSet, expandable, claim("data-db-0", "Bound", "1Gi", "fast"), claim("data-db-3", "Pending", "1Gi", "fast")},
			"claim ns/data-db-3: it is Pending, not Bound"},
		{"class without expansion", []string{liveSet, fixed, claim("data-db-0", "Bound", "1Gi", "fixed")},
			"StorageClass fixed does not set allowVolumeExpansion: true"},
		{"no class", []string{liveSet, claim("data-db-0", "Bound", "1Gi", `""`)}, "it has no StorageClass"},
		{"no set", []string{expandable}, "reading the live set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := newClient(t, tt.objects...)
			e := &Expander{Client: client}
			plans, err := e.Check(t.Context(), target())
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "nothing was changed") {
					t.Fatalf("err = %v, want %q", err, tt.want)
				}
				for _, a := range client.Actions() {
					if a.GetVerb() != "get" && a.GetVerb() != "list" {
						t.Errorf("a refused check wrote: %v", a)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			PrintPlan(&out, plans)
			want := `pvc-guard: expand-volumes plan: StatefulSet ns/db: delete with --cascade=orphan (its 2 pod(s) keep running) and let Helm create it again
  template data: 1Gi -> 2Gi
  claim data-db-0: grow 1Gi -> 2Gi
  claim data-db-1: grow 1Gi -> 2Gi
  claim data-db-5: keep 4Gi (not smaller than 2Gi)
`
			if out.String() != want {
				t.Errorf("plan:\n%s\nwant:\n%s", out.String(), want)
			}
		})
	}
}

// adoptOnCreate makes the fake API server act as the statefulset
// controller: a created set gets a UID and adopts the pods.
func adoptOnCreate(t *testing.T, client *fake.FakeDynamicClient) {
	client.PrependReactor("create", "statefulsets", func(action k8stesting.Action) (bool, runtime.Object, error) {
		created := action.(k8stesting.CreateAction).GetObject().(*unstructured.Unstructured)
		created.SetUID("set-2")
		if err := client.Tracker().Create(statefulSets, created, "ns"); err != nil {
			return true, nil, err
		}
		for _, name := range []string{"db-0", "db-1"} {
			p := obj(t, pod(name, "set-2"))
			if err := client.Tracker().Update(pods, p, "ns"); err != nil {
				return true, nil, err
			}
		}
		return true, created, nil
	})
}

func TestPrepareAndFinish(t *testing.T) {
	tests := []struct {
		name     string
		helm     func(t *testing.T, client *fake.FakeDynamicClient) error // the upgrade
		wantErr  string
		wantLine string
	}{
		{"Helm creates the set", func(t *testing.T, client *fake.FakeDynamicClient) error {
			_, err := client.Resource(statefulSets).Namespace("ns").Create(t.Context(), obj(t, liveSet), metav1.CreateOptions{})
			return err
		}, "", "exists again (created by Helm)"},
		{"Helm fails before it creates the set", func(t *testing.T, client *fake.FakeDynamicClient) error {
			return errors.New("helm upgrade: exit status 1")
		}, "", "the upgrade failed before Helm created StatefulSet ns/db; creating the saved set from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := newClient(t, liveSet, expandable, claim("data-db-0", "Bound", "1Gi", "fast"), claim("data-db-1", "Bound", "3Gi", "fast"),
				pod("db-0", "set-1"), pod("db-1", "set-1"))
			adoptOnCreate(t, client)
			e, plans, out := prepared(t, client, 2*time.Second)
			saved, err := os.ReadFile(plans[0].Backup)
			if err != nil || strings.Contains(string(saved), "uid: set-1") || strings.Contains(string(saved), "resourceVersion") || strings.Contains(string(saved), "status") {
				t.Errorf("saved set (%v):\n%s\nwant it without uid, resourceVersion and status", err, saved)
			}
			assertRequest(t, client, "data-db-0", "2Gi")
			assertRequest(t, client, "data-db-1", "3Gi") // never shrunk
			err = e.Finish(t.Context(), plans, tt.helm(t, client))
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Finish: %v, want %q", err, tt.wantErr)
			}
			for _, want := range []string{tt.wantLine, "owns its pods again", "restore by hand: kubectl create -f " + plans[0].Backup} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("progress lacks %q:\n%s", want, out.String())
				}
			}
			var deleted bool
			for _, a := range client.Actions() {
				if d, ok := a.(k8stesting.DeleteAction); ok && a.GetResource() == statefulSets {
					opts := d.GetDeleteOptions()
					deleted = *opts.PropagationPolicy == metav1.DeletePropagationOrphan && *opts.Preconditions.UID == "set-1" && *opts.Preconditions.ResourceVersion == "7"
				}
			}
			if !deleted {
				t.Error("the set was not deleted with orphan propagation and preconditions on UID and resourceVersion")
			}
		})
	}
}

// TestFinishReportsALostSet: when the saved set cannot be created, the
// message gives the command that restores it.
func TestFinishReportsALostSet(t *testing.T) {
	client := newClient(t, liveSet, expandable, claim("data-db-0", "Bound", "1Gi", "fast"), pod("db-0", "set-1"))
	client.PrependReactor("create", "statefulsets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection refused")
	})
	e, plans, _ := prepared(t, client, time.Second)
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // interrupted: Finish must still try
	err := e.Finish(ctx, plans, errors.New("interrupted"))
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "run kubectl create -f "+plans[0].Backup) {
		t.Errorf("Finish: %v, want the create error and the restore command", err)
	}
}

// prepared returns an Expander over client that has checked and prepared
// the default target (claims grown, set saved and deleted): the state Finish
// starts from, with the progress it printed so far.
func prepared(t *testing.T, client *fake.FakeDynamicClient, timeout time.Duration) (*Expander, []*SetPlan, *bytes.Buffer) {
	t.Helper()
	out := &bytes.Buffer{}
	e := &Expander{Client: client, Out: out, BackupDir: t.TempDir(), Timeout: timeout, Interval: 10 * time.Millisecond}
	plans, err := e.Check(t.Context(), target())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Prepare(t.Context(), plans); err != nil {
		t.Fatal(err)
	}
	return e, plans, out
}

func assertRequest(t *testing.T, client *fake.FakeDynamicClient, name, want string) {
	t.Helper()
	c, err := client.Resource(claims).Namespace("ns").Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := unstructured.NestedString(c.Object, "spec", "resources", "requests", "storage"); got != want {
		t.Errorf("claim %s requests %s, want %s", name, got, want)
	}
}

func mustQ(s string) resource.Quantity { return resource.MustParse(s) }

// TestPrepareFailsOnALaterSet: the second set's delete is refused, so the
// first, already deleted, is created again and the second left alone.
func TestPrepareFailsOnALaterSet(t *testing.T) {
	cache := strings.NewReplacer("name: db", "name: cache", "uid: set-1", "uid: set-3").Replace(liveSet)
	client := newClient(t, liveSet, cache, expandable, claim("data-db-0", "Bound", "1Gi", "fast"), claim("data-cache-0", "Bound", "1Gi", "fast"),
		pod("db-0", "set-1"), pod("db-1", "set-1"))
	adoptOnCreate(t, client)
	client.PrependReactor("delete", "statefulsets", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if action.(k8stesting.DeleteAction).GetName() == "cache" {
			return true, nil, errors.New("the precondition failed")
		}
		return false, nil, nil
	})
	var out bytes.Buffer
	e := &Expander{Client: client, Out: &out, BackupDir: t.TempDir(), Timeout: 2 * time.Second, Interval: 10 * time.Millisecond}
	targets := append(target(), &Target{Namespace: "ns", Name: "cache", Templates: target()[0].Templates})
	plans, err := e.Check(t.Context(), targets)
	if err != nil {
		t.Fatal(err)
	}
	err = e.Prepare(t.Context(), plans)
	if err == nil || !strings.Contains(err.Error(), "deleting StatefulSet ns/cache") || !strings.Contains(err.Error(), plans[1].Backup) {
		t.Fatalf("Prepare: %v, want the refused delete of cache, naming its saved file", err)
	}
	if err := e.Finish(t.Context(), plans, err); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if !strings.Contains(out.String(), "the upgrade failed before Helm created StatefulSet ns/db; creating the saved set") ||
		strings.Contains(out.String(), "StatefulSet ns/cache owns") {
		t.Errorf("progress:\n%s\nwant db re-created and cache untouched", out.String())
	}
	if _, err := client.Resource(statefulSets).Namespace("ns").Get(t.Context(), "cache", metav1.GetOptions{}); err != nil {
		t.Errorf("cache: %v", err)
	}
	assertRequest(t, client, "data-cache-0", "2Gi") // grown claims stay grown
}

// TestFinishWaitsForTheAPIServer: the API server is away when Helm has
// failed (connections refused, then unavailable); the set is put back once
// it answers again.
func TestFinishWaitsForTheAPIServer(t *testing.T) {
	client := newClient(t, liveSet, expandable, claim("data-db-0", "Bound", "1Gi", "fast"), pod("db-0", "set-1"), pod("db-1", "set-1"))
	adoptOnCreate(t, client)
	e, plans, out := prepared(t, client, 2*time.Second)
	failures := map[string]int{"get": 3, "create": 2}
	client.PrependReactor("*", "statefulsets", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if failures[action.GetVerb()] == 0 {
			return false, nil, nil
		}
		failures[action.GetVerb()]--
		if action.GetVerb() == "create" {
			return true, nil, apierrors.NewServiceUnavailable("etcd is starting")
		}
		return true, nil, errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")
	})
	if err := e.Finish(t.Context(), plans, errors.New("helm upgrade: signal: interrupt")); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if failures["get"]+failures["create"] != 0 || !strings.Contains(out.String(), "StatefulSet ns/db owns its pods again") {
		t.Errorf("failures left %v; progress:\n%s", failures, out.String())
	}
}
