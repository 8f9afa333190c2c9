package e2e

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// statefulSets are judged exactly: pvc-guard must pass a set the API
// server accepts as it is byte for byte, and its rewrites must leave the
// fields ValidateStatefulSetUpdate lets change (and the set's own labels
// and annotations) as the chart asks. Making a set is cheap, so each live
// one is drawn two charts.
var statefulSets = target{
	resource: "statefulsets",
	client:   func(c kubernetes.Interface) rest.Interface { return c.AppsV1().RESTClient() },
	source:   "diff/templates/statefulset.yaml",
	perLive:  2,
	mutable: [][]string{
		{"metadata", "labels"}, {"metadata", "annotations"},
		spec("replicas"), spec("ordinals"), spec("template"), spec("updateStrategy"), spec("revisionHistoryLimit"),
		spec("persistentVolumeClaimRetentionPolicy"), spec("minReadySeconds"),
	},
	exact: true,
}

// TestStatefulSetRulesAgreeWithTheAPIServer lets the API server judge the
// StatefulSet rules (see differential_test.go) over pairs of a live set
// and a chart's set: templates' labels, annotations, sizes, classes,
// modes and volume modes, templates added, removed or reordered, the
// selector, serviceName and podManagementPolicy, with the fields a user may
// change drawn too. A dry run needs no pods, so most live sets have none.
func TestStatefulSetRulesAgreeWithTheAPIServer(t *testing.T) {
	seed, pairs := diffSize(t, 600)
	c := testcluster.Get(t)
	ns := c.Namespace(t)
	gen := statefulSetKind("fast", "slow")
	r := rand.New(rand.NewPCG(seed, 0))

	d := newDiffer(t, c, ns, statefulSets)
	began := time.Now()
	lives := make([]map[string]any, (pairs+d.perLive-1)/d.perLive)
	for i := range lives {
		lives[i] = gen.live(r, fmt.Sprintf("db-%d", i))
	}
	d.createSets(t, lives)
	setup := time.Since(began)

	charts := make([]map[string]any, pairs)
	for i := range charts {
		set := lives[i%len(lives)]
		charts[i] = gen.chart(r, set, get(set, []string{"metadata", "name"}).(string))
	}
	d.judgeAll(t, seed, lives, charts, setup)
}

// createSets creates the live sets and adds them, as the API server serves
// them, to the snapshot.
func (d *differ) createSets(t *testing.T, sets []map[string]any) {
	t.Helper()
	errs := make([]error, len(sets))
	var wg sync.WaitGroup
	for i, set := range sets {
		wg.Go(func() { errs[i] = d.create(t, set) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	list, err := d.client.AppsV1().StatefulSets(d.ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range list.Items {
		d.addLive(t, &list.Items[i])
	}
}
