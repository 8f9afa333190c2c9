package live

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/version"

	"github.com/pvc-guard/pvc-guard/renderer"
)

// Background is live state being loaded on another goroutine, so that
// reading a large snapshot overlaps with reading and splitting the stream.
// Its methods wait for the load to finish.
type Background struct {
	done  chan struct{}
	state renderer.LiveState
	err   error
}

var _ renderer.LiveState = (*Background)(nil)

// LoadInBackground starts load and returns at once.
func LoadInBackground(load func() (renderer.LiveState, error)) *Background {
	b := &Background{done: make(chan struct{})}
	go func() {
		defer close(b.done)
		b.state, b.err = load()
	}()
	return b
}

// Wait returns the loaded state, or the load's error.
func (b *Background) Wait(ctx context.Context) (renderer.LiveState, error) {
	select {
	case <-b.done:
		return b.state, b.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Objects implements renderer.LiveState.
func (b *Background) Objects(ctx context.Context, kind renderer.GroupKind, keys []renderer.ObjectKey) (map[renderer.ObjectKey]*unstructured.Unstructured, error) {
	state, err := b.Wait(ctx)
	if err != nil {
		return nil, err
	}
	return state.Objects(ctx, kind, keys)
}

// ServerVersion implements renderer.ServerVersioner: the loaded state's
// version, when it has one (a cluster); nil for a snapshot, whose rules
// assume the newest server unless --kube-version says otherwise.
func (b *Background) ServerVersion(ctx context.Context) (*version.Info, error) {
	state, err := b.Wait(ctx)
	if err != nil {
		return nil, err
	}
	if v, ok := state.(renderer.ServerVersioner); ok {
		return v.ServerVersion(ctx)
	}
	return nil, nil
}
