// Package rollback is `pvc-guard rollback`: Helm's own rollback action with
// the target revision's manifest passed through the renderer first.
//
// Helm never post-renders a rollback; it replays the stored manifest of the
// target revision, which may lack a claim's volumeName or ask for a smaller
// size, and the API server refuses it. Rather than reimplementing rollback,
// this package wraps Helm's release storage so that loading the target
// revision returns a copy whose manifest went through the renderer. Helm's
// action.Rollback then does everything else as the CLI would: hooks, the
// "Rollback to N" record, superseding, history limit, waiting, and Helm 4's
// recorded apply method.
package rollback

import (
	"context"
	"errors"
	"fmt"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	release "helm.sh/helm/v4/pkg/release/v1"

	"github.com/pvc-guard/pvc-guard/renderer"
)

// Options are the options of `helm rollback`.
type Options struct {
	Version         int // 0 means the previous revision
	Timeout         time.Duration
	WaitStrategy    kube.WaitStrategy
	WaitForJobs     bool
	DisableHooks    bool
	ForceReplace    bool
	ForceConflicts  bool
	ServerSideApply string // "auto", "true" or "false"
	CleanupOnFail   bool
	MaxHistory      int
	// DryRun renders the target revision and reports what would change,
	// without writing a release record or touching a live object.
	DryRun bool
}

// DefaultOptions are the defaults of Helm 4's CLI.
func DefaultOptions() Options {
	return Options{Timeout: 300 * time.Second, WaitStrategy: kube.HookOnlyStrategy, ServerSideApply: "auto"}
}

// Rollback rolls a release back to a revision.
type Rollback struct {
	cfg *action.Configuration
	// Renderer rewrites the target manifest; its Namespace is set per release.
	Renderer *renderer.Renderer
	Options
}

// Result says what a rollback did (or, on a dry run, would do).
type Result struct {
	Release  string
	Revision int // the revision rolled back to
	// Manifest is the target revision's manifest after the renderer.
	Manifest string
	Report   *renderer.Report
}

// NewRollback returns a rollback using Helm's configuration cfg.
func NewRollback(cfg *action.Configuration, r *renderer.Renderer, opts Options) *Rollback {
	return &Rollback{cfg: cfg, Renderer: r, Options: opts}
}

// Run rolls the release back. On any error before Helm applies anything
// (unknown release or revision, unreachable cluster, a conflict under
// --on-conflict=fail) nothing has been changed.
func (r *Rollback) Run(ctx context.Context, name string) (*Result, error) {
	target, err := r.loadTarget(name)
	if err != nil {
		return nil, err
	}
	rewritten, report, err := r.render(ctx, target)
	if err != nil {
		return nil, err
	}
	result := &Result{Release: name, Revision: target.Version, Manifest: rewritten.Manifest, Report: report}
	if r.DryRun {
		return result, nil
	}
	r.cfg.Releases.Driver = &renderedTarget{Driver: r.cfg.Releases.Driver, target: rewritten}
	if err := r.helmRollback(target.Version).Run(name); err != nil {
		return nil, fmt.Errorf("rolling back %s to revision %d: %w", name, target.Version, err)
	}
	return result, nil
}

// loadTarget finds the revision to roll back to, by Helm's rule: Version, or
// the one before the latest.
func (r *Rollback) loadTarget(name string) (*release.Release, error) {
	if r.Version < 0 {
		return nil, fmt.Errorf("revision must be a positive number, not %d", r.Version)
	}
	if err := r.cfg.KubeClient.IsReachable(); err != nil {
		return nil, fmt.Errorf("cannot reach the cluster: %w", err)
	}
	last, err := r.cfg.Releases.Last(name)
	if err != nil {
		return nil, fmt.Errorf("release %q: %w", name, err)
	}
	current, err := AsRelease(last)
	if err != nil {
		return nil, err
	}
	if current.Info != nil && current.Info.Status.IsPending() {
		return nil, fmt.Errorf("release %q has an operation in progress (%s); wait for it to finish, as Helm requires for upgrades", name, current.Info.Status)
	}
	version := r.Version
	if version == 0 {
		version = current.Version - 1
	}
	stored, err := r.cfg.Releases.Get(name, version)
	if err != nil {
		return nil, fmt.Errorf("release %q has no revision %d: %w", name, version, err)
	}
	return AsRelease(stored)
}

// render runs the target's manifest through the renderer against the live
// cluster and returns a copy of the release carrying the result.
func (r *Rollback) render(ctx context.Context, target *release.Release) (*release.Release, *renderer.Report, error) {
	rend := *r.Renderer
	rend.Namespace = target.Namespace
	out, report, err := rend.Render(ctx, []byte(target.Manifest))
	if err != nil {
		return nil, report, fmt.Errorf("revision %d of %s cannot be applied safely: %w", target.Version, target.Name, err)
	}
	rewritten := *target
	rewritten.Manifest = string(out)
	return &rewritten, report, nil
}

// helmRollback configures Helm's own rollback action with our options.
func (r *Rollback) helmRollback(version int) *action.Rollback {
	client := action.NewRollback(r.cfg)
	client.Version = version
	client.Timeout = r.Timeout
	client.WaitStrategy = r.WaitStrategy
	client.WaitForJobs = r.WaitForJobs
	client.DisableHooks = r.DisableHooks
	client.ForceReplace = r.ForceReplace
	client.ForceConflicts = r.ForceConflicts
	client.ServerSideApply = r.ServerSideApply
	client.CleanupOnFail = r.CleanupOnFail
	client.MaxHistory = r.MaxHistory
	return client
}

// AsRelease is a record Helm's release storage returned, as the v1 release
// Helm 3 and Helm 4 both store.
func AsRelease(r any) (*release.Release, error) {
	switch rel := r.(type) {
	case *release.Release:
		return rel, nil
	case release.Release:
		return &rel, nil
	}
	return nil, errors.New("unsupported release record type")
}
