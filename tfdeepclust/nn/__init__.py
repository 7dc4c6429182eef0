"""Building blocks shared by the methods: auto-encoders, discriminators, clustering layer."""
