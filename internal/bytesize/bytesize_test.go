package bytesize

import "testing"

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		n    int64
		want string
	}{
		{name: "zero", n: 0, want: "0B"},
		{name: "bytes", n: 1500, want: "1500B"},
		{name: "kibibytes", n: 64 << 10, want: "64KiB"},
		{name: "mebibytes", n: 1 << 20, want: "1MiB"},
		{name: "not a whole mebibyte", n: 1<<20 + 1<<10, want: "1025KiB"},
		{name: "gibibytes", n: 3 << 30, want: "3GiB"},
		{name: "tebibytes", n: 2 << 40, want: "2TiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Format(tt.n); got != tt.want {
				t.Errorf("Format(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func TestHuman(t *testing.T) {
	tests := []struct {
		name string
		n    int64
		want string
	}{
		{name: "bytes", n: 512, want: "512 B"},
		{name: "one kibibyte", n: 1024, want: "1.0 KiB"},
		{name: "mebibytes", n: 5_347_737, want: "5.1 MiB"},
		{name: "gibibytes", n: 3 << 30, want: "3.0 GiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Human(tt.n); got != tt.want {
				t.Errorf("Human(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}
