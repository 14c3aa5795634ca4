//! The global allocator: mimalloc, asked for an alignment only when a type needs more than
//! every block already has.
//!
//! glibc's malloc and free were 18% of the gateway's instructions per relayed request: every
//! request allocates its headers, body, JSON values and log row and frees them on another
//! thread. mimalloc's thread-local free lists cost a fraction of that.
//!
//! The `mimalloc` crate hands every allocation to `mi_malloc_aligned`. In mimalloc 3 an
//! aligned request over 1 KiB whose size is not a power of two over-allocates and aligns by
//! hand, at about ten times the instructions of `mi_malloc`, even for the alignment of 8
//! that every block has. A relayed chat made nine of those (hyper's buffers, boxed futures).

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// Every mimalloc block is aligned to a word: block sizes are whole words.
const WORD: usize = std::mem::size_of::<usize>();

pub struct MiMalloc;

// SAFETY: each call is mimalloc's own for the layout; `mi_malloc` is used only where its
// word alignment satisfies the layout, and `mi_free` frees blocks of either kind.
unsafe impl GlobalAlloc for MiMalloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if l.align() <= WORD {
            mi::mi_malloc(l.size()).cast()
        } else {
            mi::mi_malloc_aligned(l.size(), l.align()).cast()
        }
    }

    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if l.align() <= WORD {
            mi::mi_zalloc(l.size()).cast()
        } else {
            mi::mi_zalloc_aligned(l.size(), l.align()).cast()
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, _: Layout) {
        mi::mi_free(p.cast::<c_void>())
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, size: usize) -> *mut u8 {
        if l.align() <= WORD {
            mi::mi_realloc(p.cast(), size).cast()
        } else {
            mi::mi_realloc_aligned(p.cast(), size, l.align()).cast()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks of every size and alignment come back aligned, keep their contents through
    /// `realloc`, and are zeroed when asked.
    #[test]
    fn blocks_are_aligned_and_keep_their_contents() {
        let a = MiMalloc;
        for align in [1, 2, 4, 8, 16, 64, 128, 4096] {
            for size in [1, 7, 24, 1000, 1500, 5000, 70_000] {
                let l = Layout::from_size_align(size, align).unwrap();
                unsafe {
                    let p = a.alloc(l);
                    assert_eq!(p as usize % align, 0, "size {size} align {align}");
                    p.write_bytes(0xAB, size);
                    let q = a.realloc(p, l, size * 3);
                    assert_eq!(q as usize % align, 0, "realloc {size} align {align}");
                    assert!((0..size).all(|i| *q.add(i) == 0xAB));
                    a.dealloc(q, Layout::from_size_align(size * 3, align).unwrap());
                    let z = a.alloc_zeroed(l);
                    assert_eq!(z as usize % align, 0);
                    assert!((0..size).all(|i| *z.add(i) == 0));
                    a.dealloc(z, l);
                }
            }
        }
    }
}
