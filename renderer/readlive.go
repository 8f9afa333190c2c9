package renderer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/pvc-guard/pvc-guard/renderer/yamltext"
	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/version"
	apiversion "k8s.io/apimachinery/pkg/version"
)

// ServerVersioner is a LiveState that can say the API server's version
// (live.Cluster does); nil means it has none to say (a snapshot). The
// renderer asks it once, and only when the stream holds an object whose
// rules depend on the version and KubeVersion is empty.
type ServerVersioner interface {
	ServerVersion(ctx context.Context) (*apiversion.Info, error)
}

// learnServerVersion sets the index's server version from the live state
// when the rules need it, and warns when the server is older than the rules
// know.
func (r *Renderer) learnServerVersion(ctx context.Context, ix *ruleIndex, objects []*object, report *Report) error {
	versioner, ok := r.Live.(ServerVersioner)
	if ix.server == nil && ok && ix.versionMatters(objects) {
		info, err := versioner.ServerVersion(ctx)
		if err != nil {
			return err
		}
		if info != nil {
			if ix.server, err = version.ParseGeneric(info.GitVersion); err != nil {
				return fmt.Errorf("the API server's version %q: %w", info.GitVersion, err)
			}
		}
	}
	if ix.server == nil {
		return nil
	}
	for _, set := range r.ruleSets() {
		if set.MinKubeVersion != "" && ix.server.LessThan(version.MustParseGeneric(set.MinKubeVersion)) {
			report.Warnings = append(report.Warnings, fmt.Sprintf("the API server is %s, older than the %s rules know (%s and later): it may refuse changes they let through",
				ix.server, set.Name, set.MinKubeVersion))
		}
	}
	return nil
}

// attachLiveState reads the live objects, one call per kind, the kinds
// concurrently. A kind the caller may not read has its rules skipped, with
// a warning; claims, whose rules pvc-guard exists for, are an error.
func (r *Renderer) attachLiveState(ctx context.Context, objects []*object, report *Report) error {
	keys := map[GroupKind][]ObjectKey{}
	seen := map[GroupKind]map[ObjectKey]bool{}
	for _, obj := range objects {
		if seen[obj.kind] == nil {
			seen[obj.kind] = map[ObjectKey]bool{}
		}
		if !seen[obj.kind][obj.key] {
			seen[obj.kind][obj.key] = true
			keys[obj.kind] = append(keys[obj.kind], obj.key)
		}
	}
	live, forbidden, err := r.readLive(ctx, keys)
	if err != nil {
		return err
	}
	for _, f := range forbidden {
		report.Warnings = append(report.Warnings, fmt.Sprintf("skipped the %s rules: %v; grant get and list on it to check them (examples/rbac.yaml)", f.kind, f.err))
	}
	yamltext.Parallel(len(objects), func(i int) {
		if found := live[objects[i].kind][objects[i].key]; found != nil {
			objects[i].attachLive(found) // views copy what they rewrite
		}
	})
	return nil
}

// forbiddenKind is a kind the caller may not read.
type forbiddenKind struct {
	kind GroupKind
	err  error
}

// readLive reads the live objects of each kind among keys, the kinds
// concurrently. Kinds other than claims and storage classes that the caller
// may not read come back as forbidden, in kind order.
func (r *Renderer) readLive(ctx context.Context, keys map[GroupKind][]ObjectKey) (map[GroupKind]map[ObjectKey]map[string]any, []forbiddenKind, error) {
	var mu sync.Mutex
	live := map[GroupKind]map[ObjectKey]map[string]any{}
	var forbidden []forbiddenKind
	g, ctx := errgroup.WithContext(ctx)
	for kind, kindKeys := range keys {
		g.Go(func() error {
			found, err := r.liveObjects(ctx, kind, kindKeys)
			if apierrors.IsForbidden(err) && kind != claimGroupKind && kind != classGroupKind {
				mu.Lock()
				defer mu.Unlock()
				forbidden = append(forbidden, forbiddenKind{kind, err})
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading live %s: %w", plural(kind.Kind), err)
			}
			mu.Lock()
			defer mu.Unlock()
			live[kind] = found
			return nil
		})
	}
	err := g.Wait()
	slices.SortFunc(forbidden, func(a, b forbiddenKind) int { return strings.Compare(a.kind.String(), b.kind.String()) })
	return live, forbidden, err
}

// plural names objects of a kind in messages: PersistentVolumeClaims,
// StorageClasses.
func plural(kind string) string {
	if strings.HasSuffix(kind, "s") {
		return kind + "es"
	}
	return kind + "s"
}

// liveObjects reads the live objects of one kind.
func (r *Renderer) liveObjects(ctx context.Context, kind GroupKind, keys []ObjectKey) (map[ObjectKey]map[string]any, error) {
	objects, err := r.Live.Objects(ctx, kind, keys)
	if err != nil {
		return nil, err
	}
	found := make(map[ObjectKey]map[string]any, len(objects))
	for key, obj := range objects {
		found[key] = obj.Object
	}
	return found, nil
}

// fetchRelated reads the related objects the decisions asked for and
// returns the lookup the real decisions use.
func (r *Renderer) fetchRelated(ctx context.Context, keys map[GroupKind][]ObjectKey) (func(GroupKind, ObjectKey) map[string]any, error) {
	related, _, err := r.readLive(ctx, keys)
	if err != nil {
		return nil, err
	}
	return func(kind GroupKind, key ObjectKey) map[string]any { return related[kind][key] }, nil
}
