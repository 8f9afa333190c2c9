package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// claims are judged over bound live claims; binding a claim costs more
// than a dry-run update, so each is drawn five charts.
var claims = target{
	resource: "persistentvolumeclaims",
	client:   func(c kubernetes.Interface) rest.Interface { return c.CoreV1().RESTClient() },
	source:   "diff/templates/pvc.yaml",
	perLive:  5,
}

// bindTimeout bounds the wait for every live claim to bind: the binder
// takes them one by one.
const bindTimeout = 2 * time.Minute

// TestRulesAgreeWithTheAPIServer lets the API server judge the claim rules
// (see differential_test.go) over pairs of a bound live claim and a chart's
// claim, in every form a chart may render the ruled fields.
func TestRulesAgreeWithTheAPIServer(t *testing.T) {
	seed, pairs := diffSize(t, 150)
	c := testcluster.Get(t)
	ns := c.Namespace(t)
	expandable := c.CreateStorageClass(t, testcluster.StorageClassOptions{AllowVolumeExpansion: true})
	fixed := c.CreateStorageClass(t, testcluster.StorageClassOptions{})
	volumeName := func(claim string) string { return ns + "-" + claim }
	gen := claimKind(expandable.Name, fixed.Name, volumeName)
	r := rand.New(rand.NewPCG(seed, 0))

	d := newDiffer(t, c, ns, claims)
	d.addLive(t, expandable, fixed)
	began := time.Now()
	lives := make([]map[string]any, (pairs+d.perLive-1)/d.perLive)
	for i := range lives {
		lives[i] = gen.live(r, fmt.Sprintf("data-%d", i))
	}
	d.createBound(t, lives, volumeName)
	setup := time.Since(began)

	// Charts are drawn in order, so a seed always gives the same pairs.
	charts := make([]map[string]any, pairs)
	for i := range charts {
		claim := lives[i%len(lives)]
		charts[i] = gen.chart(r, claim, get(claim, []string{"metadata", "name"}).(string))
	}
	d.judgeAll(t, seed, lives, charts, setup)
}

// createBound creates the live claims and the volumes they bind to, waits
// until every claim is bound and adds them to the snapshot.
func (d *differ) createBound(t *testing.T, claims []map[string]any, volumeName func(string) string) {
	t.Helper()
	errs := make([]error, len(claims))
	var wg sync.WaitGroup
	for i, claim := range claims {
		wg.Go(func() { errs[i] = d.createClaim(t, claim, volumeName) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var list *corev1.PersistentVolumeClaimList
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, bindTimeout, true, func(ctx context.Context) (bool, error) {
		var err error
		if list, err = d.client.CoreV1().PersistentVolumeClaims(d.ns).List(ctx, metav1.ListOptions{}); err != nil {
			return false, err
		}
		for _, claim := range list.Items {
			if claim.Status.Phase != corev1.ClaimBound {
				return false, nil
			}
		}
		return len(list.Items) == len(claims), nil
	})
	if err != nil {
		var pending []string
		for _, claim := range list.Items {
			if claim.Status.Phase != corev1.ClaimBound {
				pending = append(pending, claim.Name)
			}
		}
		t.Fatalf("live claims not bound within %s: %v: %s", bindTimeout, err, strings.Join(pending, " "))
	}
	for i := range list.Items {
		d.addLive(t, &list.Items[i])
	}
}

// createClaim creates a live claim and the volume it binds to, and deletes
// the volume when t ends (the claim goes with the namespace).
func (d *differ) createClaim(t *testing.T, claim map[string]any, volumeName func(string) string) error {
	name := get(claim, []string{"metadata", "name"}).(string)
	pv, err := volumeOf(claim, d.ns, volumeName(name))
	if err != nil {
		return err
	}
	if _, err := d.client.CoreV1().PersistentVolumes().Create(t.Context(), pv, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating volume %s: %w", pv.Name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.client.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting volume %s: %v", pv.Name, err)
		}
	})
	return d.create(t, claim)
}

// create creates a live object of the target kind from its drawn form.
func (d *differ) create(t *testing.T, obj map[string]any) error {
	body, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	err = d.rest.Post().Namespace(d.ns).Resource(d.resource).
		SetHeader("Content-Type", "application/json").Body(body).Do(t.Context()).Error()
	if err != nil {
		return fmt.Errorf("creating live object %s: %w", body, err)
	}
	return nil
}
