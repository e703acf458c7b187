package main

import (
	"bytes"
	"context"
	"runtime/debug"
	"strings"
	"testing"
)

func TestDescribeBuild(t *testing.T) {
	set := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	cases := []struct {
		name, override string
		info           *debug.BuildInfo
		want           string
	}{
		{"tagged install", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}},
			"v1.4.0 (go1.26.8)"},
		{"clone build", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261202150156-e08d2b2a2592+dirty"},
			Settings: set("vcs", "git", "vcs.revision", "e08d2b2a25929e9f2cc8ec13340af7dc0b9a2b2c", "vcs.time", "2026-12-02T15:01:56Z", "vcs.modified", "true")},
			"v0.0.0-20261202150156-e08d2b2a2592+dirty (revision e08d2b2a2592 of 2026-12-02T15:01:56Z, with uncommitted changes; go1.26.8)"},
		{"clean revision", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: set("vcs.revision", "e08d2b2a25929e9f", "vcs.modified", "false")},
			"(devel) (revision e08d2b2a2592)"},
		{"no vcs", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			"(devel) (no VCS revision recorded: build from a git clone with -buildvcs=true, or install a tagged version; go1.26.8)"},
		{"release name", "v2.0.0-rc1", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: set("vcs.revision", "abcdef0123456789")}, "v2.0.0-rc1 (revision abcdef012345; go1.26.8)"},
		{"no build info", "", nil, "(unknown: the binary carries no build information)"},
	}
	for _, c := range cases {
		if got := describeBuild(c.override, c.info); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

// The command prints this binary's own build info, never a bare "devel".
func TestVersionCommand(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &out, &out); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	info, _ := debug.ReadBuildInfo()
	got := strings.TrimSpace(out.String())
	if got != "steward "+describeBuild("", info) || !strings.Contains(got, info.GoVersion) || got == "steward devel" {
		t.Fatalf("steward version printed %q", got)
	}
}
