from features.demo import generate_leads


def test_same_seed_same_leads_and_documented_columns():
    first, again = generate_leads(500, 5), generate_leads(500, 5)
    assert first.equals(again)
    assert {
        "lead_id",
        "created_at",
        "outcome",
        "deal_value",
        "loss_reason",
        "contact_email",
    } <= set(first.columns)


def test_demo_leads_look_like_a_real_export():
    leads = generate_leads(5000, 0)
    shares = leads["outcome"].value_counts(normalize=True)
    assert 0.15 < shares["won"] < 0.45 and 0.02 < shares["open"] < 0.2
    assert leads.loc[leads["outcome"] == "lost", "loss_reason"].notna().all()
    assert leads.loc[leads["outcome"] != "lost", "loss_reason"].isna().all()
    assert (leads["purchase_timeline"] == "Select").any() and (leads["email_opens"] == -1).any()
    created = leads["created_at"].str.slice(0, 4)
    assert set(created) == {"2024", "2025"}


def test_referral_and_demo_requests_convert_better():
    leads = generate_leads(20000, 1)
    closed = leads[leads["outcome"] != "open"]
    won = closed["outcome"] == "won"
    assert (
        won[closed["lead_source"] == "Referral"].mean()
        > won[closed["lead_source"] == "Cold Outbound"].mean() + 0.15
    )
    assert (
        won[closed["demo_requested"] == "yes"].mean()
        > won[closed["demo_requested"] == "no"].mean() + 0.15
    )
