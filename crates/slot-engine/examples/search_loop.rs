fn main() {
    let path = std::env::args().nth(1).unwrap();
    let what = std::env::args().nth(2).unwrap_or_default();
    let bytes = std::fs::read(path).unwrap();
    let s = slot_engine::Scenario::from_json(&bytes).unwrap();
    let m = slot_engine::Model::new(&s).unwrap();
    let mut n = 0;
    let iterations: usize = std::env::var("ITER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    for _ in 0..iterations {
        if what == "first" {
            n += m
                .first_available(
                    &m.query().unwrap().portal,
                    m.query().unwrap().dates.from(),
                    1,
                )
                .len();
        } else if what == "build" {
            n += slot_engine::Model::new(&s).unwrap().practitioners().len();
        } else {
            n += m.open_slots(m.query().unwrap()).len();
        }
    }
    println!("{n}");
}
