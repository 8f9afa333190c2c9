// Package e2e holds end-to-end tests against a real control plane and the
// real Helm CLIs, provided by internal/testutil/testcluster.
package e2e

import (
	"testing"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }
