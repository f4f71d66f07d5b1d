package report

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite docs/report.png from the browser test")

// chromium returns the headless browser to test with, or skips.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium: install Debian's chromium package (test.sh does) to test the report in a browser")
	return ""
}

// browse runs the headless browser on page with the network off: in a
// network namespace of its own where unshare can make one, and through a
// proxy that does not exist in any case.
func browse(t *testing.T, page string, args ...string) []byte {
	t.Helper()
	bin := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	argv := []string{bin, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--no-first-run", "--user-data-dir=" + t.TempDir(),
		"--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"}
	if exec.Command("unshare", "-n", "true").Run() == nil {
		argv = append([]string{"unshare", "-n"}, argv...)
	}
	argv = append(argv, args...)
	argv = append(argv, "file://"+page)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, stderr.String())
	}
	return out
}

func TestReportInABrowser(t *testing.T) {
	chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var buf bytes.Buffer
	if err := view(t, incident(t, 200_000)).HTML(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	dom := string(browse(t, page, "--dump-dom"))
	findings := between(dom, `id="findings"`, "</ol>")
	items := strings.Split(findings, "<li")
	if len(items) < 3 || !strings.Contains(items[1], "dockerd on ") || !strings.Contains(items[1], "goroutine") ||
		!strings.Contains(items[2], "restart loop: protokube.service") {
		t.Errorf("the page does not open with dockerd's goroutine dump and protokube's restart loop:\n%s", findings)
	}
	top := between(dom, `id="top-bytes"`, "</table>")
	if rows := strings.Split(top, `class="pattern"`); len(rows) < 2 || !strings.Contains(rows[1], "dockerd") || !strings.Contains(rows[1], "goroutine 2706 [runnable]:") {
		t.Errorf("the top pattern by bytes is not dockerd's goroutine dump with its exemplar:\n%.1500s", top)
	}
	if floods := between(dom, `id="floods"`, "</table>"); !strings.Contains(floods, "<td>dockerd</td>") {
		t.Errorf("the floods do not list dockerd's:\n%s", floods)
	}
	if n := strings.Count(between(dom, `id="timeline"`, `class="legend"`), `class="flood"`); n != 4 {
		t.Errorf("timeline: %d flood bands in its four charts, want dockerd's in each", n)
	}
	if n := strings.Count(between(dom, `id="timeline"`, `class="legend"`), "<polygon"); n < 4*2 {
		t.Errorf("timeline: %d series drawn in its four charts, want at least two each", n)
	}

	shot := filepath.Join(dir, "report.png")
	browse(t, page, "--window-size=1200,1500", "--screenshot="+shot)
	img := decode(t, shot)
	// The busiest source's colour fills part of the chart: the chart
	// rendered, not only exists in the DOM.
	if n := count(img, color.RGBA{0xd6, 0x27, 0x28, 0xff}, 40); n < 2000 {
		t.Errorf("screenshot has %d pixels of the busiest source's colour, want a drawn chart", n)
	}
	if *update {
		data, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("../../docs/report.png", data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// between returns what s holds between the first from and the next to.
func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, to); j >= 0 {
		s = s[:j]
	}
	return s
}

func decode(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	return img
}

// count returns the pixels of img within tol of c in every channel.
func count(img image.Image, c color.RGBA, tol int) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, _ := img.At(x, y).RGBA()
			if near(int(r>>8), int(c.R), tol) && near(int(g>>8), int(c.G), tol) && near(int(bb>>8), int(c.B), tol) {
				n++
			}
		}
	}
	return n
}

func near(a, b, tol int) bool { return a-b <= tol && b-a <= tol }
