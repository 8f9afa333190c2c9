package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
	"github.com/pvc-guard/pvc-guard/live"
	"github.com/pvc-guard/pvc-guard/renderer"
	"github.com/pvc-guard/pvc-guard/renderer/yamltext"
)

// The differential tests let the API server judge the rules: they draw
// random pairs of a live object and a chart's object over the ruled fields
// (pairgen), render each chart through pvc-guard and ask the API server,
// with dry-run PUTs over the live object (as `helm upgrade --force` sends
// an object), whether pvc-guard's verdict holds:
//   - passed unchanged: the chart's object is accepted as it is;
//   - rewritten: the output is accepted, and with exact kinds the chart's
//     object as it is was refused (else the rewrite was not needed);
//   - refused with conflicts: the chart's object is refused, the output
//     --on-conflict=keep-live makes is accepted, and each conflicting field
//     of the chart laid over that output (with the fields the API server
//     reads with it, see coupled) is refused.
// A rewrite must also leave the fields a user may change (target.mutable)
// as the chart asks: the API server must store the same there for the
// output as for the output with the chart's values laid over those fields.

// Environment variables that size the differential tests beyond what
// `make test` runs: PVC_GUARD_DIFF_SEED=N draws other pairs, and
// PVC_GUARD_DIFF_PAIRS=N draws more.
const (
	envDiffSeed  = "PVC_GUARD_DIFF_SEED"
	envDiffPairs = "PVC_GUARD_DIFF_PAIRS"
)

// judges is how many pairs are judged at a time.
const judges = 4

// target is the kind a differential test judges.
type target struct {
	resource string                                    // the API server's name for it
	client   func(kubernetes.Interface) rest.Interface // the REST client of its group
	source   string                                    // the chart template its documents come from
	// perLive is how many charts are drawn against each live object.
	perLive int
	// mutable are the fields a user may change; a rewrite must leave them
	// as the chart asks.
	mutable [][]string
	// exact says that pvc-guard rewrites only what the API server would
	// refuse: a chart it accepts as it is passes through byte for byte.
	exact bool
}

// diffSize returns the seed and the number of pairs to draw; pairs is the
// number `make test` runs.
func diffSize(t *testing.T, pairs int) (uint64, int) {
	t.Helper()
	seed := uint64(1)
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

// differ renders charts against the live objects and asks the API server.
type differ struct {
	target
	client      kubernetes.Interface // unthrottled, without the beta annotation's deprecation warnings
	rest        rest.Interface       // target.client of client
	ns          string
	kubeVersion string
	snapshot    *live.Snapshot // the live objects, for the renderer
}

func newDiffer(t *testing.T, c *testcluster.Cluster, ns string, kind target) *differ {
	t.Helper()
	config := rest.CopyConfig(c.Config)
	config.WarningHandler = rest.NoWarnings{}
	config.QPS, config.Burst = 500, 500 // client-go's default of 5 a second would set the pace
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	return &differ{target: kind, client: client, rest: kind.client(client), ns: ns, kubeVersion: c.KubeVersion, snapshot: live.NewSnapshot()}
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

// verdict is what pvc-guard made of a chart.
type verdict int

const (
	passed verdict = iota
	rewritten
	refused
	failed
)

// judgeAll judges each chart against its live object (charts[i] against
// lives[i%len(lives)]) in parallel, reports every disagreement and logs the
// counts; setup is the time it took to make the live objects.
func (d *differ) judgeAll(t *testing.T, seed uint64, lives, charts []map[string]any, setup time.Duration) {
	began := time.Now()
	problems := make([]string, len(charts))
	verdicts := make([]verdict, len(charts))
	var wg sync.WaitGroup
	next := make(chan int)
	for range judges {
		wg.Go(func() {
			for i := range next {
				verdicts[i], problems[i] = d.judge(t, charts[i])
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
	count := func(v verdict) int {
		return len(slices.DeleteFunc(slices.Clone(verdicts), func(w verdict) bool { return w != v }))
	}
	t.Logf("%d pairs from seed %d over %d live %s (made in %s, judged in %s): %d passed, %d rewritten, %d refused; %d disagreements",
		len(charts), seed, len(lives), d.resource, setup.Round(time.Millisecond), time.Since(began).Round(time.Millisecond),
		count(passed), count(rewritten), count(refused), disagreements)
}

// judge renders one chart's object and checks pvc-guard's verdict with the
// API server; it returns the verdict and what they disagree on, or "". It
// runs on a goroutine of its own, so it reports failures of the test
// itself with t.Error.
func (d *differ) judge(t *testing.T, chart map[string]any) (verdict, string) {
	doc, err := yaml.Marshal(chart)
	if err != nil {
		t.Error(err)
		return failed, ""
	}
	stream := append([]byte("---\n# Source: "+d.source+"\n"), doc...)
	_, stock := d.update(t, chart)
	out, report, err := d.render(t, stream, renderer.Fail)
	var problems []string
	v := refused
	switch conflicts := (*renderer.ConflictError)(nil); {
	case err == nil && len(report.Rewrites) == 0:
		v = passed
		if !bytes.Equal(out, stream) {
			problems = append(problems, fmt.Sprintf("pvc-guard rewrote nothing, yet its output differs:\n%s", out))
		}
		if stock != nil {
			problems = append(problems, fmt.Sprintf("pvc-guard let it through unchanged; the API server refused it: %v", stock))
		}
	case err == nil:
		v = rewritten
		problems = append(problems, d.checkRewrite(t, "pvc-guard let it through as", out, chart)...)
		if d.exact && stock == nil {
			problems = append(problems, fmt.Sprintf("pvc-guard rewrote it (%s), which the API server accepts as it is", fieldsOf(report.Rewrites)))
		} else if d.exact {
			problems = append(problems, d.checkNeeded(t, out, chart, report.Rewrites, "rewrote")...)
		}
	case !errors.As(err, &conflicts):
		return failed, fmt.Sprintf("chart:\n%spvc-guard failed: %v", doc, err)
	default:
		if stock == nil {
			problems = append(problems, fmt.Sprintf("pvc-guard refused it (%s), which the API server accepts as it is", fieldsOf(report.Conflicts)))
		}
		problems = append(problems, d.checkConflicts(t, stream, chart, report)...)
	}
	if len(problems) == 0 {
		return v, ""
	}
	return v, fmt.Sprintf("chart:\n%s%s", doc, strings.Join(problems, "\n"))
}

func (d *differ) render(t *testing.T, stream []byte, policy renderer.ConflictPolicy) ([]byte, *renderer.Report, error) {
	r := &renderer.Renderer{Live: d.snapshot, Namespace: d.ns, OnConflict: policy, KubeVersion: d.kubeVersion}
	return r.Render(t.Context(), stream)
}

// checkConflicts checks a refusal: the keep-live output is accepted and
// each conflict laid over it is refused.
func (d *differ) checkConflicts(t *testing.T, stream []byte, chart map[string]any, report *renderer.Report) []string {
	kept, _, err := d.render(t, stream, renderer.KeepLive)
	if errors.As(err, new(*renderer.ConflictError)) {
		return nil // keep-live cannot keep some field (a selector no longer selecting the pods): the refusal stands, as checked
	}
	if err != nil {
		return []string{fmt.Sprintf("pvc-guard --on-conflict=keep-live failed: %v", err)}
	}
	problems := d.checkRewrite(t, "its keep-live output", kept, chart)
	problems = append(problems, d.checkNeeded(t, kept, chart, report.Conflicts, "refused")...)
	if d.exact {
		problems = append(problems, d.checkNeeded(t, kept, chart, report.Rewrites, "rewrote")...)
	}
	return problems
}

// checkNeeded lays the chart's value of each finding's field (with the
// fields the API server reads with it, see coupled) over a rewritten
// stream, and reports each that the API server accepts there: pvc-guard
// refused or rewrote (what it did) a field it had no need to.
func (d *differ) checkNeeded(t *testing.T, out []byte, chart map[string]any, findings []renderer.Finding, what string) []string {
	var problems []string
	for _, f := range findings {
		path, err := yamltext.ParsePath(f.Field)
		if err != nil {
			t.Errorf("a finding's field %q: %v", f.Field, err)
			continue
		}
		obj := lay(decode(t, out), chart, path).(map[string]any)
		for _, key := range coupled[f.Rule] {
			obj = lay(obj, chart, append(path[:len(path)-1:len(path)-1], yamltext.Step{Key: key})).(map[string]any)
		}
		if _, err := d.update(t, obj); err == nil {
			problems = append(problems, fmt.Sprintf("pvc-guard %s %s = %s (%s), which the API server accepts over its output",
				what, f.Field, renderer.FormatValue(f.Chart), f.Reason))
		}
	}
	return problems
}

// checkRewrite checks a rewritten stream (what names it in messages): the
// API server accepts it, and stores in the mutable fields what it stores
// for them when the chart's values are laid over those fields.
func (d *differ) checkRewrite(t *testing.T, what string, out []byte, chart map[string]any) []string {
	obj := decode(t, out)
	stored, err := d.update(t, obj)
	if err != nil {
		return []string{fmt.Sprintf("%s:\n%sthe API server refused it: %v", what, out, err)}
	}
	laid := clone(obj).(map[string]any)
	var changed []string
	for _, p := range d.mutable {
		if !equalJSON(get(obj, p), get(chart, p)) {
			set(laid, p, get(chart, p))
			changed = append(changed, strings.Join(p, "."))
		}
	}
	if changed == nil {
		return nil
	}
	want, err := d.update(t, laid)
	if err != nil {
		return []string{fmt.Sprintf("%s:\n%swith the chart's %s laid over it, the API server refused it: %v", what, out, strings.Join(changed, ", "), err)}
	}
	var problems []string
	for _, p := range d.mutable {
		if got, asked := get(stored, p), get(want, p); !equalJSON(got, asked) {
			problems = append(problems, fmt.Sprintf("%s:\n%sthe API server stores %s = %s for it, where the chart asks for %s",
				what, out, strings.Join(p, "."), renderer.FormatValue(got), renderer.FormatValue(asked)))
		}
	}
	return problems
}

// coupled names, for a rule, the sibling fields the API server reads
// together with its field: on a claim it fills each data source field from
// the other, and drops a dataSource it would refuse only when no
// dataSourceRef is set. A conflict on one of them is laid over the live
// claim with the chart's value of the other.
var coupled = map[string][]string{
	"data-source":     {"dataSourceRef"},
	"data-source-ref": {"dataSource"},
}

// update PUTs an object over the live one with dryRun=All and returns what
// the API server would store, or its refusal: invalid, forbidden, or a bad
// request (a value its types cannot hold, such as a quantity ""). Any
// other failure is the test's own: reported, and counted as a refusal.
func (d *differ) update(t *testing.T, obj map[string]any) (map[string]any, error) {
	obj = clone(obj).(map[string]any)
	set(obj, []string{"metadata", "namespace"}, d.ns)
	body, err := json.Marshal(obj)
	if err != nil {
		t.Error(err)
		return nil, err
	}
	name, _ := get(obj, []string{"metadata", "name"}).(string)
	raw, err := d.rest.Put().Namespace(d.ns).Resource(d.resource).Name(name).
		Param("dryRun", "All").SetHeader("Content-Type", "application/json").Body(body).Do(t.Context()).Raw()
	if err != nil {
		// client-go's message for a bad request leaves out the server's.
		var status metav1.Status
		if json.Unmarshal(raw, &status) == nil && status.Message != "" {
			err = fmt.Errorf("%s: %w", status.Message, err)
		}
		if !apierrors.IsInvalid(err) && !apierrors.IsForbidden(err) && !apierrors.IsBadRequest(err) {
			t.Errorf("dry-run update of %s: %v", body, err) // not a verdict on the object
		}
		return nil, err
	}
	var stored map[string]any
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Errorf("reading the API server's answer: %v", err)
		return nil, err
	}
	return stored, nil
}

// decode reads the one object of a rendered stream as Helm's decoder does.
func decode(t *testing.T, rendered []byte) map[string]any {
	var obj map[string]any
	if err := yaml.Unmarshal(rendered, &obj); err != nil {
		t.Errorf("reading pvc-guard's output: %v\n%s", err, rendered)
	}
	return obj
}

// fieldsOf lists the fields of findings.
func fieldsOf(findings []renderer.Finding) string {
	var fields []string
	for _, f := range findings {
		fields = append(fields, f.Field)
	}
	return strings.Join(fields, ", ")
}
