from bballs.cli import main

raise SystemExit(main())
