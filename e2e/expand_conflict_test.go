package e2e

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// TestExpandVolumesWhileControllersWrite: someone writes each claim and the
// set while pvc-guard's own write of it is in flight, so that the write's
// resourceVersion precondition fails with 409 Conflict, as on a busy
// cluster where controllers write status (since 1.37 the pvc-protection
// controller flips a bound claim's Unused condition). The writes come from
// a validating webhook, the first time it is asked about a claim's update
// or the set's delete: the API server then finds the object changed and
// refuses pvc-guard's write, every time. A status write is written again;
// a change to the set's spec refuses, naming it, and deletes nothing.
func TestExpandVolumesWhileControllersWrite(t *testing.T) {
	tests := []struct {
		name  string
		write func(d *dbRelease, kind, name string) error
		check func(t *testing.T, d *dbRelease, res testcluster.Result)
	}{
		{"status", func(d *dbRelease, kind, name string) error {
			condition := []byte(`{"status":{"conditions":[{"type":"E2EWriter","status":"True","message":"written by the e2e webhook"}]}}`)
			var err error
			if kind == "StatefulSet" {
				_, err = d.c.Client.AppsV1().StatefulSets(d.ns).Patch(context.Background(), name, types.MergePatchType, condition, metav1.PatchOptions{}, "status")
			} else {
				_, err = d.c.Client.CoreV1().PersistentVolumeClaims(d.ns).Patch(context.Background(), name, types.MergePatchType, condition, metav1.PatchOptions{}, "status")
			}
			return err
		}, func(t *testing.T, d *dbRelease, res testcluster.Result) {
			if res.Err != nil {
				t.Fatalf("pvc-guard upgrade --expand-volumes: %v", res.Err)
			}
			assertStderr(t, res, "claim "+d.ns+"/data-db-0 was written meanwhile", "claim "+d.ns+"/data-db-1 was written meanwhile",
				"StatefulSet "+d.ns+"/db was written meanwhile", "5/5 StatefulSet "+d.ns+"/db owns its pods again")
			d.assertClaims("2Gi")
			d.assertSet("2Gi")
		}},
		{"the set's spec", func(d *dbRelease, kind, name string) error {
			if kind != "StatefulSet" {
				return nil
			}
			_, err := d.c.Client.AppsV1().StatefulSets(d.ns).Patch(context.Background(), name, types.MergePatchType, []byte(`{"spec":{"replicas":3}}`), metav1.PatchOptions{})
			return err
		}, func(t *testing.T, d *dbRelease, res testcluster.Result) {
			if res.Err == nil {
				t.Fatal("pvc-guard upgrade --expand-volumes succeeded, want it to refuse the changed set")
			}
			assertStderr(t, res, "deleting StatefulSet "+d.ns+"/db with orphan propagation", "spec.replicas (was 2, now 3)", "nothing was deleted")
			if set := d.getSet(); set.UID != d.set.UID || set.DeletionTimestamp != nil {
				t.Errorf("the set was deleted (UID %s, was %s; deletion %v)", set.UID, d.set.UID, set.DeletionTimestamp)
			}
			if got := len(d.history("db")); got != 1 {
				t.Errorf("%d revisions, want 1: Helm ran", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := installDB(t, testcluster.Helm4, true)
			writeOnFirstWrite(t, d, tt.write)
			res := d.upgrade("--set", "persistence.size=2Gi", "--expand-volumes")
			tt.check(t, d, res)
		})
	}
}

// writeOnFirstWrite registers a validating webhook for updates of d's
// claims and deletes of its set that calls write the first time it is asked
// about each object, then allows. It returns once the API server calls it.
func writeOnFirstWrite(t *testing.T, d *dbRelease, write func(d *dbRelease, kind, name string) error) {
	var mu sync.Mutex
	seen, ready := map[string]bool{}, false
	server := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req := review.Request
		key, dryRun := req.Kind.Kind+"/"+req.Name, req.DryRun != nil && *req.DryRun
		mu.Lock()
		first := !dryRun && !seen[key]
		seen[key] = seen[key] || !dryRun
		ready = true
		mu.Unlock()
		review.Response = &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
		if first {
			if err := write(d, req.Kind.Kind, req.Name); err != nil {
				review.Response = &admissionv1.AdmissionResponse{UID: req.UID, Result: &metav1.Status{Message: "the e2e writer: " + err.Error()}}
			}
		}
		review.Request = nil
		_ = json.NewEncoder(w).Encode(&review)
	}))
	t.Cleanup(server.Close)
	caBundle := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw})
	fail, none := admissionregistrationv1.Fail, admissionregistrationv1.SideEffectClassNone
	url := server.URL + "/validate"
	rule := func(op admissionregistrationv1.OperationType, group, resource string) admissionregistrationv1.RuleWithOperations {
		return admissionregistrationv1.RuleWithOperations{Operations: []admissionregistrationv1.OperationType{op},
			Rule: admissionregistrationv1.Rule{APIGroups: []string{group}, APIVersions: []string{"v1"}, Resources: []string{resource}}}
	}
	webhook := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: d.ns},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "writer.pvc-guard.test",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caBundle},
			Rules:                   []admissionregistrationv1.RuleWithOperations{rule(admissionregistrationv1.Update, "", "persistentvolumeclaims"), rule(admissionregistrationv1.Delete, "apps", "statefulsets")},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": d.ns}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	webhooks := d.c.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	if _, err := webhooks.Create(t.Context(), webhook, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = webhooks.Delete(context.Background(), webhook.Name, metav1.DeleteOptions{}) })
	// The API server takes a moment to call a new webhook: probe with dry
	// runs, which it sends to the webhook and the webhook does not act on.
	probe := []byte(`{"metadata":{"annotations":{"e2e-probe":"x"}}}`)
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := d.c.Client.CoreV1().PersistentVolumeClaims(d.ns).Patch(ctx, d.claims[0].Name, types.MergePatchType, probe, metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}})
		mu.Lock()
		defer mu.Unlock()
		return ready, err
	})
	if err != nil {
		t.Fatalf("waiting for the API server to call the webhook: %v", err)
	}
}
