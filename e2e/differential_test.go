package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
	"github.com/pvc-guard/pvc-guard/live"
	"github.com/pvc-guard/pvc-guard/renderer"
)

// Environment variables that size the differential test beyond what
// `make test` runs: PVC_GUARD_DIFF_SEED=N draws other pairs, and
// PVC_GUARD_DIFF_PAIRS=N draws more.
const (
	envDiffSeed  = "PVC_GUARD_DIFF_SEED"
	envDiffPairs = "PVC_GUARD_DIFF_PAIRS"
)

// chartsPerLiveClaim is how many charts are drawn against each live claim:
// binding a claim costs more than a dry-run update.
const chartsPerLiveClaim = 5

// bindTimeout bounds the wait for every live claim to bind: the binder
// takes them one by one.
const bindTimeout = 2 * time.Minute

// judges is how many pairs are judged at a time.
const judges = 4

// TestRulesAgreeWithTheAPIServer lets the API server judge the rules. It
// draws random pairs of a bound live claim and a chart's claim over the
// ruled fields, in every form a chart may render them, and renders each
// chart through pvc-guard. When pvc-guard lets a claim through, a PUT of
// its output over the live claim (dryRun=All, as `helm upgrade --force`
// would send it) must be accepted. When it reports a conflict, that field
// of the chart (with the fields the API server reads with it, see coupled)
// laid over the output pvc-guard makes with keep-live must be refused, and
// the keep-live output itself accepted.
func TestRulesAgreeWithTheAPIServer(t *testing.T) {
	seed, pairs := diffSize(t)
	c := testcluster.Get(t)
	ns := c.Namespace(t)
	expandable := c.CreateStorageClass(t, testcluster.StorageClassOptions{AllowVolumeExpansion: true})
	fixed := c.CreateStorageClass(t, testcluster.StorageClassOptions{})
	volumeName := func(claim string) string { return ns + "-" + claim }
	claims := claimKind(expandable.Name, fixed.Name, volumeName)
	r := rand.New(rand.NewPCG(seed, 0))

	d := newDiffer(t, c, ns)
	d.addLive(t, expandable, fixed)
	began := time.Now()
	lives := make([]map[string]any, (pairs+chartsPerLiveClaim-1)/chartsPerLiveClaim)
	for i := range lives {
		lives[i] = claims.live(r, fmt.Sprintf("data-%d", i))
	}
	d.createBound(t, lives, volumeName)
	bound := time.Since(began)

	// Charts are drawn in order, so a seed always gives the same pairs;
	// they are judged in parallel.
	charts := make([]map[string]any, pairs)
	for i := range charts {
		claim := lives[i%len(lives)]
		charts[i] = claims.chart(r, claim, get(claim, []string{"metadata", "name"}).(string))
	}
	problems := make([]string, pairs)
	var through atomic.Int64 // pairs pvc-guard let through
	var wg sync.WaitGroup
	next := make(chan int)
	for range judges {
		wg.Go(func() {
			for i := range next {
				var passed bool
				if passed, problems[i] = d.judge(t, charts[i]); passed {
					through.Add(1)
				}
			}
		})
	}
	for i := range charts {
		next <- i
	}
	close(next)
	wg.Wait()
	disagreements := 0
	for i, problem := range problems {
		if problem != "" {
			disagreements++
			liveJSON, _ := json.Marshal(lives[i%len(lives)])
			t.Errorf("pair %d (%s=%d): live %s\n%s", i, envDiffSeed, seed, liveJSON, problem)
		}
	}
	t.Logf("%d pairs from seed %d over %d live claims (bound in %s, judged in %s): %d let through, %d disagreements",
		pairs, seed, len(lives), bound.Round(time.Millisecond), (time.Since(began) - bound).Round(time.Millisecond), through.Load(), disagreements)
}

// diffSize returns the seed and the number of pairs to draw.
func diffSize(t *testing.T) (uint64, int) {
	t.Helper()
	seed, pairs := uint64(1), 150
	if v := os.Getenv(envDiffSeed); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: want a number", envDiffSeed, v)
		}
		seed = n
	}
	if v := os.Getenv(envDiffPairs); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", envDiffPairs, v)
		}
		pairs = n
	}
	return seed, pairs
}

// differ renders charts against the live claims and asks the API server.
type differ struct {
	client   kubernetes.Interface // unthrottled, without the beta annotation's deprecation warnings
	ns       string
	snapshot *live.Snapshot // the live claims and classes, for the renderer
}

func newDiffer(t *testing.T, c *testcluster.Cluster, ns string) *differ {
	t.Helper()
	config := rest.CopyConfig(c.Config)
	config.WarningHandler = rest.NoWarnings{}
	config.QPS, config.Burst = 500, 500 // client-go's default of 5 a second would set the pace
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	return &differ{client: client, ns: ns, snapshot: live.NewSnapshot()}
}

// createBound creates the live claims and the volumes they bind to, waits
// until every claim is bound and adds them to the snapshot.
func (d *differ) createBound(t *testing.T, claims []map[string]any, volumeName func(string) string) {
	t.Helper()
	errs := make([]error, len(claims))
	var wg sync.WaitGroup
	for i, claim := range claims {
		wg.Go(func() { errs[i] = d.create(t, claim, volumeName) })
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

// create creates a live claim and the volume it binds to, and deletes the
// volume when t ends (the claim goes with the namespace).
func (d *differ) create(t *testing.T, claim map[string]any, volumeName func(string) string) error {
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
	body, err := json.Marshal(claim)
	if err != nil {
		return err
	}
	err = d.client.CoreV1().RESTClient().Post().Namespace(d.ns).Resource("persistentvolumeclaims").
		SetHeader("Content-Type", "application/json").Body(body).Do(t.Context()).Error()
	if err != nil {
		return fmt.Errorf("creating live claim %s: %w", body, err)
	}
	return nil
}

// addLive adds objects, as the API server serves them, to the snapshot.
func (d *differ) addLive(t *testing.T, objects ...runtime.Object) {
	t.Helper()
	for _, obj := range objects {
		kinds, _, err := scheme.Scheme.ObjectKinds(obj)
		if err != nil {
			t.Fatal(err)
		}
		obj.GetObjectKind().SetGroupVersionKind(kinds[0])
		data, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.snapshot.Add(data); err != nil {
			t.Fatal(err)
		}
	}
}

// judge renders one chart claim and checks pvc-guard's verdict with the
// API server; it returns whether pvc-guard let the claim through and what
// they disagree on, or "". It runs on a
// goroutine of its own, so it reports failures of the test itself with
// t.Error.
func (d *differ) judge(t *testing.T, chart map[string]any) (bool, string) {
	doc, err := yaml.Marshal(chart)
	if err != nil {
		t.Error(err)
		return false, ""
	}
	stream := append([]byte("---\n# Source: diff/templates/pvc.yaml\n"), doc...)
	render := func(policy renderer.ConflictPolicy) ([]byte, *renderer.Report, error) {
		r := &renderer.Renderer{Live: d.snapshot, Namespace: d.ns, OnConflict: policy}
		return r.Render(t.Context(), stream)
	}
	out, report, err := render(renderer.Fail)
	var conflicts *renderer.ConflictError
	switch {
	case err == nil:
		if refused := d.update(t, out, nil); refused != nil {
			return true, fmt.Sprintf("chart:\n%spvc-guard let it through as:\n%sthe API server refused it: %v", doc, out, refused)
		}
		return true, ""
	case !errors.As(err, &conflicts):
		return false, fmt.Sprintf("chart:\n%spvc-guard failed: %v", doc, err)
	}
	kept, _, err := render(renderer.KeepLive)
	if err != nil {
		return false, fmt.Sprintf("chart:\n%spvc-guard --on-conflict=keep-live failed: %v", doc, err)
	}
	var problems []string
	if refused := d.update(t, kept, nil); refused != nil {
		problems = append(problems, fmt.Sprintf("its keep-live output\n%swas refused: %v", kept, refused))
	}
	for _, f := range report.Conflicts {
		lay := func(obj map[string]any) {
			for _, rule := range append([]string{f.Rule}, coupled[f.Rule]...) {
				path := rulePath(rule)
				set(obj, path, get(chart, path))
			}
		}
		if d.update(t, kept, lay) == nil {
			problems = append(problems, fmt.Sprintf("pvc-guard refused %s = %s (%s), which the API server accepts over the keep-live output", f.Field, renderer.FormatValue(f.Chart), f.Reason))
		}
	}
	if len(problems) == 0 {
		return false, ""
	}
	return false, fmt.Sprintf("chart:\n%s%s", doc, strings.Join(problems, "\n"))
}

// update PUTs the claim of a rendered stream (changed by edit, if given)
// over the live claim with dryRun=All, as Helm's decoder reads the stream,
// and returns the API server's refusal, or nil. Any other failure is the
// test's own: reported, and counted as a refusal.
func (d *differ) update(t *testing.T, rendered []byte, edit func(map[string]any)) error {
	var obj map[string]any
	if err := yaml.Unmarshal(rendered, &obj); err != nil {
		t.Errorf("reading pvc-guard's output: %v\n%s", err, rendered)
		return err
	}
	if edit != nil {
		edit(obj)
	}
	set(obj, []string{"metadata", "namespace"}, d.ns)
	body, err := json.Marshal(obj)
	if err != nil {
		t.Error(err)
		return err
	}
	name, _ := get(obj, []string{"metadata", "name"}).(string)
	err = d.client.CoreV1().RESTClient().Put().Namespace(d.ns).Resource("persistentvolumeclaims").Name(name).
		Param("dryRun", "All").SetHeader("Content-Type", "application/json").Body(body).Do(t.Context()).Error()
	if err != nil && !apierrors.IsInvalid(err) && !apierrors.IsForbidden(err) {
		t.Errorf("dry-run update of %s: %v", body, err) // not a verdict on the claim
	}
	return err
}

// coupled names, for a rule, the rules of fields the API server reads
// together with its field: it fills each data source field from the other,
// and drops a dataSource it would refuse only when no dataSourceRef is set.
// A conflict on one of them is laid over the live claim with the chart's
// value of the other.
var coupled = map[string][]string{
	"data-source":     {"data-source-ref"},
	"data-source-ref": {"data-source"},
}

// rulePath returns the field of the default rule a finding names, as keys.
func rulePath(name string) []string {
	for _, set := range renderer.DefaultRuleSets() {
		for _, rule := range set.Rules {
			if rule.Name != name {
				continue
			}
			var keys []string
			for _, step := range rule.Path {
				keys = append(keys, step.Key) // claim rules have no list steps
			}
			return keys
		}
	}
	panic("a finding names an unknown rule: " + name)
}
