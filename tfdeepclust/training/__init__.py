"""Training machinery shared by the methods: k-means init, target refresh, pretraining cache."""
