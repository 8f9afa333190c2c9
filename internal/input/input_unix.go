//go:build unix

package input

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// reservation is the virtual address space reserved for a piped stream.
// MAP_NORESERVE keeps it from counting against memory until pages are
// touched; a larger stream continues in an ordinary buffer.
const reservation = 4 << 30

// readMapped handles *os.File inputs; ok is false for other readers or when
// the kernel refuses a mapping, and the caller then reads normally.
func readMapped(r io.Reader, watch *Watch) (data []byte, ok bool, err error) {
	f, isFile := r.(*os.File)
	if !isFile {
		return nil, false, nil
	}
	info, err := f.Stat()
	if err != nil {
		return nil, false, nil
	}
	if info.Mode().IsRegular() {
		watch.saw(int(info.Size()))
		return mapFile(f, info.Size())
	}
	return readIntoReservation(f, watch)
}

func mapFile(f *os.File, size int64) ([]byte, bool, error) {
	if size == 0 {
		return nil, true, nil
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_PRIVATE)
	if err != nil {
		return nil, false, nil
	}
	return data, true, nil
}

func readIntoReservation(f *os.File, watch *Watch) ([]byte, bool, error) {
	buf, err := syscall.Mmap(-1, 0, reservation, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return nil, false, nil
	}
	adviseHugePages(buf)
	n := 0
	for n < len(buf) {
		m, err := f.Read(buf[n:])
		n += m
		watch.saw(n)
		if errors.Is(err, io.EOF) {
			return buf[:n], true, nil
		}
		if err != nil {
			return nil, true, fmt.Errorf("reading input: %w", err)
		}
	}
	// Larger than the reservation: continue on the heap.
	var rest bytes.Buffer
	rest.Write(buf)
	_, err = rest.ReadFrom(f)
	return rest.Bytes(), true, err
}
