//! A value kept in memory of its own: one anonymous mapping, locked so it is never swapped out
//! (best effort: `RLIMIT_MEMLOCK` may refuse), left out of core dumps (`MADV_DONTDUMP`), wiped and
//! unmapped when dropped. Private keys live here; they are shared by reference, never moved.

use std::ptr::NonNull;

use crate::error::{Error, ErrorCode, Result};

pub(crate) struct Locked<T> {
    ptr: NonNull<T>,
    len: usize,
}

// SAFETY: Locked<T> owns its T like a Box does
unsafe impl<T: Send> Send for Locked<T> {}
unsafe impl<T: Sync> Sync for Locked<T> {}

impl<T> Locked<T> {
    /// Build the value with `init` and place it in its own mapping; the bytes `init` returned on the
    /// stack are wiped.
    pub fn new(init: impl FnOnce() -> T) -> Result<Locked<T>> {
        let page = 4096usize;
        let len = std::mem::size_of::<T>().div_ceil(page).max(1) * page;
        assert!(std::mem::align_of::<T>() <= page);
        // SAFETY: an anonymous private mapping; the result is checked
        let raw = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if raw == libc::MAP_FAILED {
            return Err(Error::new(ErrorCode::Internal, "cannot map memory for a private key"));
        }
        // SAFETY: `raw` is our mapping of `len` bytes; both calls only set its attributes
        unsafe {
            libc::madvise(raw, len, libc::MADV_DONTDUMP);
            libc::mlock(raw, len);
        }
        let ptr = raw.cast::<T>();
        let mut value = std::mem::ManuallyDrop::new(init());
        // SAFETY: `ptr` is page-aligned, writable and large enough for one T; `value` is then wiped
        // byte by byte (volatile, so the compiler keeps it) and never dropped: the mapping owns it
        unsafe {
            std::ptr::copy_nonoverlapping(&*value as *const T, ptr, 1);
            let bytes = (&mut *value as *mut T).cast::<u8>();
            for i in 0..std::mem::size_of::<T>() {
                std::ptr::write_volatile(bytes.add(i), 0);
            }
        }
        Ok(Locked { ptr: NonNull::new(ptr).expect("mmap returned a mapping"), len })
    }
}

impl<T> std::ops::Deref for Locked<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: initialised in `new`, alive until drop
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> Drop for Locked<T> {
    fn drop(&mut self) {
        let raw = self.ptr.as_ptr();
        // SAFETY: the T was written in `new` and is dropped once, here; then the mapping is wiped,
        // unlocked and unmapped
        unsafe {
            std::ptr::drop_in_place(raw);
            let bytes = raw.cast::<u8>();
            for i in 0..self.len {
                std::ptr::write_volatile(bytes.add(i), 0);
            }
            libc::munlock(raw.cast(), self.len);
            libc::munmap(raw.cast(), self.len);
        }
    }
}
