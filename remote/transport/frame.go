package transport

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// frameHeaderSize is the length prefix in front of every frame on a stream: a
// big-endian uint32 counting the payload bytes that follow.
const frameHeaderSize = 4

// readFrame reads one length-prefixed frame from r. It rejects a length above
// maxSize before allocating, returns io.EOF only at a frame boundary and
// io.ErrUnexpectedEOF when the stream ends inside a frame.
func readFrame(r *bufio.Reader, maxSize int) ([]byte, error) {
	header, err := r.Peek(frameHeaderSize)
	if err != nil {
		if err == io.EOF && len(header) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	size := binary.BigEndian.Uint32(header)
	if uint64(size) > uint64(maxSize) {
		return nil, fmt.Errorf("%w: %d bytes, max %d", ErrFrameTooLarge, size, maxSize)
	}
	if _, err := r.Discard(frameHeaderSize); err != nil {
		return nil, err // cannot happen: the header was buffered by Peek
	}
	frame := make([]byte, size)
	if _, err := io.ReadFull(r, frame); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return frame, nil
}

// lendFrame is readFrame without the copy when the whole frame fits in r's
// buffer: the slice returned is r's own and valid only until r is read again.
// A frame longer than the buffer is read into a slice of its own.
func lendFrame(r *bufio.Reader, maxSize int) ([]byte, error) {
	header, err := r.Peek(frameHeaderSize)
	if err != nil || r.Size() < frameHeaderSize {
		return readFrame(r, maxSize)
	}
	size := int(binary.BigEndian.Uint32(header))
	if uint64(size) > uint64(maxSize) || size > r.Size()-frameHeaderSize {
		return readFrame(r, maxSize)
	}
	whole, err := r.Peek(frameHeaderSize + size)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if _, err := r.Discard(len(whole)); err != nil {
		return nil, err // cannot happen: Peek buffered it
	}
	return whole[frameHeaderSize:], nil
}

// checkFrameSizes returns an error wrapping ErrFrameTooLarge if any frame is
// longer than maxSize.
func checkFrameSizes(frames [][]byte, maxSize int) error {
	for i, frame := range frames {
		if len(frame) > maxSize {
			return fmt.Errorf("%w: frame %d of batch is %d bytes, max %d", ErrFrameTooLarge, i, len(frame), maxSize)
		}
	}
	return nil
}

// appendFrameHeader appends the length prefix of a frame of size bytes.
func appendFrameHeader(dst []byte, size int) []byte {
	return binary.BigEndian.AppendUint32(dst, uint32(size))
}

// appendFrame appends one whole frame, prefix and payload, to dst.
func appendFrame(dst, frame []byte) []byte {
	return append(appendFrameHeader(dst, len(frame)), frame...)
}

// resolveMaxFrameSize turns a configured MaxFrameSize into the limit in force.
func resolveMaxFrameSize(configured int) (int, error) {
	switch {
	case configured == 0:
		return DefaultMaxFrameSize, nil
	case configured < 0 || uint64(configured) > maxWireFrameSize:
		return 0, fmt.Errorf("transport: MaxFrameSize %d out of range (0 for the default, at most %d)", configured, uint64(maxWireFrameSize))
	}
	return configured, nil
}
