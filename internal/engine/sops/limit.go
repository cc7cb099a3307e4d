package sops

import (
	"bytes"
	"fmt"
)

// maxOutputFactor and maxOutputSlack bound the plaintext written for a
// document: at most maxOutputFactor times its size, plus maxOutputSlack.
//
// Decrypted values are shorter than their ciphertext (base64 alone is 4/3 of
// the bytes), so a document sops wrote decrypts to less than its size. What
// can grow is layout, which a crafted document (anyone with the public age
// recipient can write a valid one) controls: indentation is written per
// nesting level (four spaces in YAML, a tab in JSON), so a deep flow-style
// document grows with the square of its size; escapes write up to six bytes
// for one (\u0000 in JSON); INI aligns every key of a section to the longest
// one; aliases repeat what they name. The factor leaves room for what real
// files do (a multi-line secret nested a few levels deep), the slack for
// small files.
const (
	maxOutputFactor = 8
	maxOutputSlack  = 1 << 20
)

// maxOutputSize is the most plaintext a document of size bytes may produce.
func maxOutputSize(size int) int {
	return maxOutputFactor*size + maxOutputSlack
}

// boundedBuffer is a buffer that refuses to grow past limit: writers over it
// stop at the first write that would exceed it.
type boundedBuffer struct {
	buf   bytes.Buffer
	limit int
	err   error
}

func newBoundedBuffer(limit int) *boundedBuffer {
	return &boundedBuffer{limit: limit}
}

// Write implements io.Writer.
func (b *boundedBuffer) Write(p []byte) (int, error) {
	if b.err == nil && b.buf.Len()+len(p) > b.limit {
		b.err = errOutputTooLarge(b.limit)
	}
	if b.err != nil {
		return 0, b.err
	}
	return b.buf.Write(p)
}

// WriteString writes s; the first error sticks and is returned by Err.
func (b *boundedBuffer) WriteString(s string) {
	if b.err == nil && b.buf.Len()+len(s) > b.limit {
		b.err = errOutputTooLarge(b.limit)
	}
	if b.err == nil {
		b.buf.WriteString(s)
	}
}

// WriteByte writes c; the first error sticks and is returned by Err.
func (b *boundedBuffer) WriteByte(c byte) error {
	if b.err == nil && b.buf.Len()+1 > b.limit {
		b.err = errOutputTooLarge(b.limit)
	}
	if b.err != nil {
		return b.err
	}
	return b.buf.WriteByte(c)
}

// Err is the first write error.
func (b *boundedBuffer) Err() error {
	return b.err
}

// Bytes is what was written.
func (b *boundedBuffer) Bytes() []byte {
	return b.buf.Bytes()
}

func errOutputTooLarge(limit int) error {
	return fmt.Errorf("%w: the document written would be larger than %d bytes (nesting, aliases or escapes multiply its size)", ErrInvalidDocument, limit)
}
