/*!
Stable orders of rows by small integer keys (a counting sort), where a comparison sort would cost
a few hundred instructions a row: the CSV parser groups a chunk's records by event type, the
store's writer a day's rows by type rank.
*/

/// The positions of `keys` ordered by key, stably (each key's positions in increasing order), and
/// where each key's positions start in that order (`buckets + 1` bounds, the last one the number
/// of keys). Every key must be below `buckets`.
pub fn by_key(keys: &[u32], buckets: usize) -> (Vec<u32>, Vec<usize>) {
    let mut starts = vec![0usize; buckets + 1];
    for &k in keys {
        starts[k as usize + 1] += 1;
    }
    for b in 0..buckets {
        starts[b + 1] += starts[b];
    }
    let mut next = starts.clone();
    let mut order = vec![0u32; keys.len()];
    for (position, &k) in keys.iter().enumerate() {
        order[next[k as usize]] = position as u32;
        next[k as usize] += 1;
    }
    (order, starts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The order is what a stable sort by key gives, and the bounds enclose each key's run.
        #[test]
        fn the_order_is_a_stable_sort_by_key(keys in proptest::collection::vec(0u32..6, 0..60)) {
            let (order, starts) = by_key(&keys, 6);
            let mut expected: Vec<u32> = (0..keys.len() as u32).collect();
            expected.sort_by_key(|&p| keys[p as usize]);
            prop_assert_eq!(&order, &expected);
            prop_assert_eq!(starts.len(), 7);
            for b in 0..6 {
                for &p in &order[starts[b]..starts[b + 1]] {
                    prop_assert_eq!(keys[p as usize], b as u32);
                }
            }
            prop_assert_eq!(starts[6], keys.len());
        }
    }
}
