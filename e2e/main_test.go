// Package e2e holds end-to-end tests against a real control plane and the
// real Helm CLIs, provided by internal/testcluster.
package e2e

import (
	"testing"

	"github.com/pvc-guard/pvc-guard/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }
