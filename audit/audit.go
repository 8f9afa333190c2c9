// Package audit is `pvc-guard audit`: for every stored revision of a
// release, would stock `helm rollback` to it be refused, and would
// `pvc-guard rollback`; and would the next plain upgrade trip on drift.
//
// The verdicts are the API server's: the audit builds the request stock Helm
// would send (the three-way merge patch of client-side apply, Helm 4's
// server-side apply, or --force's PUT) and sends it with dryRun=All, and the
// same for the manifest pvc-guard's renderer rewrites. It never reuses
// Helm's kube client, whose Update honours dry run only for creates and
// server-side apply. Where the caller may not send the write requests a dry
// run needs, pvc-guard's own rules judge instead, and the verdict says so.
// Nothing is ever written.
package audit

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/pvc-guard/pvc-guard/renderer"
)

// Record is the part of a Helm release record the audit reads; the caller
// reads the records (Helm 3 and Helm 4 write the same format).
type Record struct {
	Name      string
	Namespace string
	Version   int
	Manifest  string
	// ApplyMethod is Helm 4's recorded apply method: "ssa", "csa", or empty
	// (Helm 3, and Helm 4 before it recorded one).
	ApplyMethod string
}

// Options are the options of `pvc-guard audit`; the rollback ones mean what
// they mean to `helm rollback`.
type Options struct {
	// MaxRevisions bounds the revisions checked per release: the newest
	// ones before the current. 0 means all.
	MaxRevisions   int
	ServerSide     string // "auto" (the target revision's method), "true" or "false"
	ForceReplace   bool
	ForceConflicts bool
	// Rules are the rule sets pvc-guard's renderer applies, as `pvc-guard
	// rollback --rules` would; nil means the default set alone.
	Rules []*renderer.RuleSet
	// Progress, when set, gets a line per release once the audit has run
	// for a while.
	Progress io.Writer
}

// DefaultOptions are the defaults: Helm's own --history-max and
// `helm rollback --server-side=auto`.
func DefaultOptions() Options { return Options{MaxRevisions: 10, ServerSide: "auto"} }

// Auditor predicts rollbacks and upgrades against one cluster.
type Auditor struct {
	Cluster *Cluster
	Options
}

// progressAfter is how long an audit runs silently (a variable for tests).
var progressAfter = 2 * time.Second

// Run audits the releases the records belong to, in name order.
func (a *Auditor) Run(ctx context.Context, records []Record) (*Result, error) {
	releases := group(records)
	result := &Result{Releases: []Release{}}
	start := time.Now()
	for i, history := range releases {
		rel, err := a.release(ctx, history)
		if err != nil {
			return nil, fmt.Errorf("release %s/%s: %w", history[0].Namespace, history[0].Name, err)
		}
		result.Releases = append(result.Releases, *rel)
		if a.Progress != nil && time.Since(start) > progressAfter {
			fmt.Fprintf(a.Progress, "pvc-guard audit: %d/%d releases, %d LIST and %d dry-run requests, %s\n",
				i+1, len(releases), a.Cluster.Lists, a.Cluster.DryRuns, time.Since(start).Round(time.Millisecond))
		}
	}
	return result, nil
}

// group sorts records into releases (by namespace and name), each history
// oldest first.
func group(records []Record) [][]Record {
	type key struct{ namespace, name string }
	byRelease := map[key][]Record{}
	for _, r := range records {
		k := key{r.Namespace, r.Name}
		byRelease[k] = append(byRelease[k], r)
	}
	var releases [][]Record
	for _, history := range byRelease {
		slices.SortFunc(history, func(a, b Record) int { return cmp.Compare(a.Version, b.Version) })
		releases = append(releases, history)
	}
	slices.SortFunc(releases, func(a, b []Record) int {
		return cmp.Or(cmp.Compare(a[0].Namespace, b[0].Namespace), cmp.Compare(a[0].Name, b[0].Name))
	})
	return releases
}

// release audits one release's history (oldest first). The current revision
// is the latest, whatever its status, as for Helm's rollback.
func (a *Auditor) release(ctx context.Context, history []Record) (*Release, error) {
	current := history[len(history)-1]
	rel := &Release{Name: current.Name, Namespace: current.Namespace, Revision: current.Version,
		Revisions: []Revision{}, Drift: []Check{}, Preserved: []Preserved{}}
	var err error
	if rel.Preserved, err = preserved(current); err != nil {
		return nil, err
	}
	targets := history[:len(history)-1]
	if a.MaxRevisions > 0 && len(targets) > a.MaxRevisions {
		targets = targets[len(targets)-a.MaxRevisions:]
	}
	for i := len(targets) - 1; i >= 0; i-- {
		target := targets[i]
		method, assumed := a.rollbackMethod(target)
		check, err := a.check(ctx, current, target, method, assumed)
		if err != nil {
			return nil, fmt.Errorf("revision %d: %w", target.Version, err)
		}
		rel.Revisions = append(rel.Revisions, Revision{Revision: target.Version, Check: *check})
	}
	for _, method := range a.upgradeMethods() {
		check, err := a.check(ctx, current, current, method, "the next upgrade with the current manifest, applied "+string(method))
		if err != nil {
			return nil, fmt.Errorf("drift of revision %d: %w", current.Version, err)
		}
		rel.Drift = append(rel.Drift, *check)
	}
	return rel, nil
}

// rollbackMethod is how `helm rollback` would apply target, by Helm 4's
// rule (--server-side=auto follows the target's recorded apply method;
// records without one are client-side, which is what Helm 3 always does).
func (a *Auditor) rollbackMethod(target Record) (Method, string) {
	switch {
	case a.ForceReplace:
		return Replace, "--force: Helm replaces each object"
	case a.ServerSide == "true":
		return ServerSide, "--server-side=true"
	case a.ServerSide == "false":
		return ClientSide, "--server-side=false"
	case target.ApplyMethod == "ssa":
		return ServerSide, fmt.Sprintf("revision %d records server-side apply (Helm 4)", target.Version)
	case target.ApplyMethod == "csa":
		return ClientSide, fmt.Sprintf("revision %d records client-side apply (Helm 4)", target.Version)
	}
	return ClientSide, fmt.Sprintf("revision %d records no apply method (Helm 3, or Helm 4 before it recorded one): client-side, as both Helms roll it back", target.Version)
}

// upgradeMethods are the apply methods drift is checked for: both a plain
// upgrade may use, or the PUT of --force.
func (a *Auditor) upgradeMethods() []Method {
	if a.ForceReplace {
		return []Method{Replace}
	}
	return []Method{ClientSide, ServerSide}
}

// check predicts applying target's manifest over the live objects while
// current is the release's latest revision, as stock Helm sends it and as
// pvc-guard's renderer rewrites it (rollback.Rollback renders the same way).
func (a *Auditor) check(ctx context.Context, current, target Record, method Method, assumed string) (*Check, error) {
	original, err := a.objects(current.Manifest, current)
	if err != nil {
		return nil, fmt.Errorf("revision %d: %w", current.Version, err)
	}
	stockObjects, err := a.objects(target.Manifest, target)
	if err != nil {
		return nil, err
	}
	c := &Check{ApplyMethod: string(method), Assumed: assumed}
	if c.Stock, err = a.verdict(ctx, method, original, stockObjects, target); err != nil {
		return nil, err
	}
	rewritten, report, err := a.renderer(target.Namespace).Render(ctx, []byte(target.Manifest))
	if err != nil {
		c.PvcGuard = renderRefusal(err, report)
		return c, nil
	}
	guardObjects, err := a.objects(string(rewritten), target)
	if err != nil {
		return nil, err
	}
	if c.PvcGuard, err = a.verdict(ctx, method, original, guardObjects, target); err != nil {
		return nil, err
	}
	return c, nil
}

// renderer is pvc-guard's renderer for a namespace, with the audit's rules,
// refusing what no rewrite can make acceptable.
func (a *Auditor) renderer(namespace string) *renderer.Renderer {
	return &renderer.Renderer{Live: a.Cluster, Namespace: namespace, OnConflict: renderer.Fail, Rules: a.Rules}
}

// renderRefusal is the verdict when pvc-guard's renderer refuses the
// manifest (a change no rewrite can make acceptable): pvc-guard rollback
// stops before applying anything.
func renderRefusal(err error, report *renderer.Report) Verdict {
	v := Verdict{Basis: Rules, Error: err.Error()}
	if report != nil {
		for _, f := range report.Conflicts {
			v.Fields = append(v.Fields, f.Field)
		}
	}
	slices.Sort(v.Fields)
	v.Fields = slices.Compact(v.Fields)
	return v
}
