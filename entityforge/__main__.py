from entityforge.cli import main

main()
