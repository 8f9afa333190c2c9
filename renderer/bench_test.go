package renderer_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/pvc-guard/pvc-guard/internal/testutil/benchdata"
	"github.com/pvc-guard/pvc-guard/renderer"
)

// BenchmarkRewrite measures the renderer alone (no process start, no pipes)
// on generated Helm-like streams, written out as the CLI writes them;
// hack/bench measures the whole binary against cat.
func BenchmarkRewrite(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		stream, liveDocs := benchdata.Stream(n)
		r := &renderer.Renderer{Live: snapshot(b, string(liveDocs)), Namespace: benchdata.Namespace}
		b.Run(fmt.Sprintf("docs=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(stream)))
			for b.Loop() {
				result, err := r.Rewrite(context.Background(), stream)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := result.WriteTo(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
