from features.demo import generate_leads
from features.encoder import LeadEncoder
from features.reading import mask_sentinels
from train.fit import fit_baseline

NA = ("Select", "-1")
KINDS = {"industry": "categorical", "web_visits": "numeric", "demo_requested": "boolean"}


def test_the_baseline_is_fitted_on_a_bounded_sample():
    leads = mask_sentinels(generate_leads(1500, 3), NA)
    encoder = LeadEncoder.fit(leads, KINDS, NA)
    y = (leads["outcome"] == "won").to_numpy(int)
    matrix = encoder.transform(leads)
    sampled = fit_baseline(matrix, y, encoder, max_rows=500)
    whole = fit_baseline(matrix, y, encoder)
    seen = [b[0].named_transformers_["numbers"][-1].n_samples_seen_ for b in (sampled, whole)]
    assert seen == [500, 1500]
    assert sampled.predict_proba(matrix).shape == (1500, 2)
