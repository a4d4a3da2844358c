//! Interning of symbols and codes, so repeated texts share one allocation.

use super::Symbol;
use std::collections::HashSet;

/// Hands out one shared [`Symbol`] per distinct text. Bounded: past `cap` texts, new ones are
/// allocated but not kept, so hostile input cannot grow it without limit.
#[derive(Debug)]
pub struct Interner {
    pool: HashSet<Symbol>,
    cap: usize,
}

impl Default for Interner {
    fn default() -> Self {
        Self::with_capacity_limit(1 << 16)
    }
}

impl Interner {
    pub fn with_capacity_limit(cap: usize) -> Self {
        Self { pool: HashSet::new(), cap }
    }

    pub fn intern(&mut self, text: &str) -> Symbol {
        if let Some(s) = self.pool.get(text) {
            return s.clone();
        }
        let s: Symbol = text.into();
        if self.pool.len() < self.cap {
            self.pool.insert(s.clone());
        }
        s
    }

    pub fn len(&self) -> usize {
        self.pool.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pool.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn repeats_share_one_allocation_up_to_the_cap() {
        let mut i = Interner::with_capacity_limit(2);
        let a = i.intern("AAPL.O");
        assert!(Arc::ptr_eq(&a, &i.intern("AAPL.O")));
        i.intern("MSFT.O");
        let c = i.intern("IBM.N");
        assert_eq!(&*c, "IBM.N");
        assert!(!Arc::ptr_eq(&c, &i.intern("IBM.N")));
        assert_eq!(i.len(), 2);
    }
}
