"""PhotoSync: personal photo backup on AWS serverless, or on one machine with `photosync serve`."""
